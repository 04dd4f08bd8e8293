using BatchAspire.Conformance;

namespace BatchAspire.Intake.Tests.IntakeConformance;

// The conformance items that concern a server of the API (not a provider's execution), run against the
// intake on Kestrel at a free loopback port: some of them count the SDK's own socket requests.

public sealed class IntakeFilesAndBatchesApiConformance(IntakeOnKestrel intake)
    : FilesAndBatchesApiConformance, IClassFixture<IntakeOnKestrel>
{
    protected override ConformanceTarget Target => intake.Target;
}

public sealed class IntakeEnforcedAuthConformance(IntakeOnKestrel intake)
    : EnforcedAuthConformance, IClassFixture<IntakeOnKestrel>
{
    protected override ConformanceTarget Target => intake.Target;
}

/// <summary>The intake listening on 127.0.0.1, with its own redis-server and the bus test harness.</summary>
public sealed class IntakeOnKestrel : IAsyncLifetime
{
    private LocalRedisServer? _redis;
    private IntakeApp? _app;

    public IntakeTarget Target { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await LocalRedisServer.StartAsync(TestContext.Current.CancellationToken);
        _app = new IntakeApp(_redis.ConnectionString);
        var port = FreePort.Next();
        _app.UseKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, port));
        _app.StartServer();
        Target = new IntakeTarget(new Uri($"http://127.0.0.1:{port}/v1"), _app);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        if (_redis is not null) await _redis.DisposeAsync();
    }
}

public sealed class IntakeTarget(Uri baseUrl, IntakeApp app) : ConformanceTarget
{
    public override Uri BaseUrl => baseUrl;

    /// <summary>Each key belongs to a tenant no other test uses: the intake's account boundary.</summary>
    public override Task<string> NewApiKeyAsync(CancellationToken ct) => Task.FromResult(app.NewTenant().Key);
}
