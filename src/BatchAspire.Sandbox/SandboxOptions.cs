namespace BatchAspire.Sandbox;

/// <summary>The <c>Sandbox</c> configuration section (docs/sandbox.md lists every key).</summary>
public sealed class SandboxOptions
{
    public const string SectionName = "Sandbox";

    /// <summary>Where files and batches live. Default: <c>{temp}/batchaspire-sandbox</c>.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>When set, every API call must carry <c>Authorization: Bearer {ApiKey}</c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary><c>local</c> (default) or <c>proxy</c>.</summary>
    public string Executor { get; set; } = "local";

    /// <summary>How many batches are worked on at the same time.</summary>
    public int MaxConcurrentBatches { get; set; } = 4;

    /// <summary>How often a running batch writes its progress to disk.</summary>
    public int CheckpointIntervalMs { get; set; } = 1000;

    public ProxyOptions Proxy { get; set; } = new();

    public string ResolveDataDirectory() =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(DataDirectory)
            ? Path.Combine(Path.GetTempPath(), "batchaspire-sandbox")
            : DataDirectory);
}

public sealed class ProxyOptions
{
    /// <summary>Upstream OpenAI-compatible server, with or without a trailing <c>/v1</c>.</summary>
    public string? BaseUrl { get; set; }

    public string? ApiKey { get; set; }

    /// <summary>Replaces <c>body.model</c> of every forwarded line when set.</summary>
    public string? Model { get; set; }

    public int MaxConcurrency { get; set; } = 8;

    public int MaxAttempts { get; set; } = 4;

    public int TimeoutSeconds { get; set; } = 600;

    /// <summary>First retry delay; doubles per attempt (capped at 8 s) unless the upstream sends Retry-After.</summary>
    public int RetryBaseDelayMs { get; set; } = 250;
}
