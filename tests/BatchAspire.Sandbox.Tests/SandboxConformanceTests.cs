namespace BatchAspire.Sandbox.Tests;

// Each conformance class gets its own Sandbox, so classes run in parallel and fault knobs set by one
// cannot reach another.

public sealed class SandboxFilesAndBatchesApiConformance(SandboxFixture sandbox)
    : FilesAndBatchesApiConformance, IClassFixture<SandboxFixture>
{
    protected override ConformanceTarget Target => sandbox.Target;
}

public sealed class SandboxProviderLimitsConformance(SandboxFixture sandbox)
    : ProviderLimitsConformance, IClassFixture<SandboxFixture>
{
    protected override ConformanceTarget Target => sandbox.Target;
}

public sealed class SandboxRequestExecutionConformance(SandboxFixture sandbox)
    : RequestExecutionConformance, IClassFixture<SandboxFixture>
{
    protected override ConformanceTarget Target => sandbox.Target;
}

public sealed class SandboxProviderControlConformance(SandboxFixture sandbox)
    : ProviderControlConformance, IClassFixture<SandboxFixture>
{
    protected override ConformanceTarget Target => sandbox.Target;
    protected override IProviderControl Control => sandbox.Target;
}

public sealed class SandboxOpenAccessConformance(SandboxFixture sandbox)
    : OpenAccessConformance, IClassFixture<SandboxFixture>
{
    protected override ConformanceTarget Target => sandbox.Target;
}

public sealed class KeyedSandboxFixture : IAsyncLifetime
{
    public const string ApiKey = "sk-sandbox-configured-key";
    public SandboxHost Host { get; private set; } = null!;
    public SandboxTarget Target { get; private set; } = null!;

    public ValueTask InitializeAsync()
    {
        Host = SandboxHost.Start(new Dictionary<string, string?> { ["Sandbox:ApiKey"] = ApiKey });
        Target = new SandboxTarget(Host, ApiKey);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();
}

public sealed class SandboxEnforcedAuthConformance(KeyedSandboxFixture sandbox)
    : EnforcedAuthConformance, IClassFixture<KeyedSandboxFixture>
{
    protected override ConformanceTarget Target => sandbox.Target;
}
