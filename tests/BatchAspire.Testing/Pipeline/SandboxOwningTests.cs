namespace BatchAspire.Testing.Pipeline;

/// <summary>
/// A test class that owns its Sandbox, started before its tests and disposed after them: fault knobs are global to one
/// Sandbox, so classes that set them never share it.
/// </summary>
public abstract class SandboxOwningTests : IAsyncLifetime
{
    protected SandboxServer Sandbox { get; private set; } = null!;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        Sandbox = SandboxServer.Start();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await Sandbox.DisposeAsync();
}
