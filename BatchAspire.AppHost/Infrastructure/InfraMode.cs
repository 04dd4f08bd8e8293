using System.Diagnostics;

namespace BatchAspire.AppHost.Infrastructure;

/// <summary>
/// Decides whether Redis and RabbitMQ run as containers or as local processes.
/// <c>Infra:Mode</c> = <c>container</c>, <c>process</c>, <c>external</c> or <c>auto</c> (default): auto asks the same
/// question Aspire asks (is a docker or podman engine answering?), because with containers forced and
/// no engine the resources never become healthy and nothing that waits for them starts.
/// </summary>
internal static class InfraMode
{
    /// <summary>
    /// Redis, RabbitMQ and the blob store are somebody else's: managed services, or servers on another machine. The
    /// AppHost runs none of them and hands the services the connection strings <c>ConnectionStrings:cache</c>,
    /// <c>messaging</c> and <c>blobs</c> (<c>Infra:Mode=external</c>). A deployment manifest is always written this
    /// way: a server the AppHost would start on this machine means nothing to the machines the manifest is for.
    /// </summary>
    public static bool IsExternal(IDistributedApplicationBuilder builder) =>
        builder.ExecutionContext.IsPublishMode
        || string.Equals(builder.Configuration["Infra:Mode"], "external", StringComparison.OrdinalIgnoreCase);

    public static bool UseContainers(IDistributedApplicationBuilder builder)
    {
        var mode = builder.Configuration["Infra:Mode"] ?? "auto";
        return mode.ToLowerInvariant() switch
        {
            "container" => true,
            "process" => false,
            _ => ContainerRuntimeAnswers(builder.Configuration["ASPIRE_CONTAINER_RUNTIME"]),
        };
    }

    private static bool ContainerRuntimeAnswers(string? preferred)
    {
        string[] runtimes = string.IsNullOrEmpty(preferred) ? ["docker", "podman"] : [preferred];
        return runtimes.Any(runtime => Succeeds(runtime, "container ls -n 1"));
    }

    private static bool Succeeds(string fileName, string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(fileName, arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (process is null)
            {
                return false;
            }
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // not installed
        }
    }
}
