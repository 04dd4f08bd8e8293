using BatchAspire.Core.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BatchAspire.Core.Tests.Routing;

public sealed class RouteTableTests
{
    private static RoutingOptions Bind(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddRouteTable();
        return services.BuildServiceProvider().GetRequiredService<IOptions<RoutingOptions>>().Value;
    }

    private static OptionsValidationException Refused(params (string Key, string Value)[] settings) =>
        Assert.Throws<OptionsValidationException>(() => Bind(settings));

    [Fact]
    public void NothingConfiguredRoutesEveryModelToTheDefaultProvider()
    {
        var routing = Bind();

        Assert.Empty(routing.Providers);
        Assert.Null(routing.RouteOf("gpt-5-nano"));
        Assert.Equal(ProviderKinds.OpenAI, routing.FirstKindOf("gpt-5-nano"));
    }

    [Fact]
    public void ARouteListsItsProvidersInOrderWithTheirModelNamesPricesAndTheKindsCaps()
    {
        var routing = Bind(
            ("Providers:claude:Kind", "anthropic"),
            ("Providers:oai:Kind", "openai"),
            ("Providers:oai:BaseUrl", "https://api.openai.com/v1"),
            ("Providers:oai:MaxLinesPerChunk", "1000"),
            ("Routing:Routes:gpt-5-nano:0:Provider", "claude"),
            ("Routing:Routes:gpt-5-nano:0:Model", "claude-haiku-4-5"),
            ("Routing:Routes:gpt-5-nano:0:InputPerMillion", "1"),
            ("Routing:Routes:gpt-5-nano:0:OutputPerMillion", "5"),
            ("Routing:Routes:gpt-5-nano:1:Provider", "oai"));

        var route = routing.RouteOf("gpt-5-nano")!;
        Assert.Equal(["claude", "oai"], route.Select(r => r.Provider));
        Assert.Equal("claude-haiku-4-5", route[0].Model);
        Assert.Null(route[1].Model);
        Assert.Equal((1.0, 5.0), (route[0].InputPerMillion!.Value, route[0].OutputPerMillion!.Value));
        Assert.Equal(ProviderKinds.Anthropic, routing.FirstKindOf("gpt-5-nano"));
        Assert.Equal(ProviderKinds.OpenAI, routing.FirstKindOf("gpt-4o"));   // unrouted: the default provider
        Assert.Equal((100_000, 256_000_000L), (routing.Providers["claude"].LinesCap, routing.Providers["claude"].BytesCap));
        Assert.Equal((1000, 200L * 1024 * 1024), (routing.Providers["oai"].LinesCap, routing.Providers["oai"].BytesCap));
    }

    [Fact]
    public void ARouteToAProviderThatIsNotConfiguredIsRefusedAtStartNamingTheSetting()
    {
        var refused = Refused(("Routing:Routes:gpt-5-nano:0:Provider", "claude"));

        Assert.Contains(refused.Failures, f => f.StartsWith("Routing:Routes:gpt-5-nano:0:Provider must name a provider configured under Providers", StringComparison.Ordinal));
    }

    [Fact]
    public void AnUnknownKindAndCapsAboveTheKindsLimitsAreRefused()
    {
        var refused = Refused(
            ("Providers:x:Kind", "bedrock"),
            ("Providers:claude:Kind", "anthropic"),
            ("Providers:claude:MaxLinesPerChunk", "100001"),
            ("Providers:oai:Kind", "openai"),
            ("Providers:oai:MaxLinesPerChunk", "50001"),
            ("Providers:oai:MaxBytesPerChunk", "1"));

        Assert.Contains("Providers:x:Kind must be 'openai', 'azure' or 'anthropic'.", refused.Failures);
        Assert.Contains(refused.Failures, f => f.StartsWith("Providers:claude:MaxLinesPerChunk must be between 1 and 100000", StringComparison.Ordinal));
        Assert.Contains(refused.Failures, f => f.StartsWith("Providers:oai:MaxLinesPerChunk must be between 1 and 50000", StringComparison.Ordinal));
        Assert.Contains(refused.Failures, f => f.StartsWith("Providers:oai:MaxBytesPerChunk must be between 2", StringComparison.Ordinal));
    }

    [Fact]
    public void HalfAPriceABadBaseUrlAndABadProviderNameAreRefusedWithoutEchoingAnyKey()
    {
        var refused = Refused(
            ("Providers:Claude Prod:Kind", "anthropic"),
            ("Providers:claude:Kind", "anthropic"),
            ("Providers:claude:BaseUrl", "ftp://example"),
            ("Providers:claude:ApiKey", "sk-ant-secret-value"),
            ("Routing:Routes:gpt-5-nano:0:Provider", "claude"),
            ("Routing:Routes:gpt-5-nano:0:InputPerMillion", "1"));

        Assert.Contains("Providers:Claude Prod: a provider name is 1 to 32 of a-z, 0-9, '_' or '-'.", refused.Failures);
        Assert.Contains("Providers:claude:BaseUrl must be an absolute http(s) URL.", refused.Failures);
        Assert.Contains("Routing:Routes:gpt-5-nano:0: give both InputPerMillion and OutputPerMillion, or neither.", refused.Failures);
        Assert.DoesNotContain(refused.Failures, f => f.Contains("sk-ant", StringComparison.Ordinal));
    }

    [Fact]
    public void AnAzureProviderHasAzuresCapsAndOpenAICompatibleProvidersTakeAModelName()
    {
        var routing = Bind(
            ("Providers:az:Kind", "azure"),
            ("Providers:oai:Kind", "openai"),
            ("Routing:Routes:gpt-5-nano:0:Provider", "az"),
            ("Routing:Routes:gpt-5-nano:0:Model", "my-batch-deployment"),
            ("Routing:Routes:gpt-5-nano:1:Provider", "oai"),
            ("Routing:Routes:gpt-5-nano:1:Model", "gpt-5-mini"));

        Assert.Equal((100_000, 200_000_000L), (routing.Providers["az"].LinesCap, routing.Providers["az"].BytesCap));
        Assert.Equal(["my-batch-deployment", "gpt-5-mini"], routing.RouteOf("gpt-5-nano")!.Select(step => step.Model));
        Assert.Equal(ProviderKinds.Azure, routing.FirstKindOf("gpt-5-nano"));
    }

    [Fact]
    public void AnAzureProviderAboveAzuresCapsIsRefused()
    {
        var refused = Refused(
            ("Providers:az:Kind", "azure"),
            ("Providers:az:MaxLinesPerChunk", "100001"),
            ("Providers:az:MaxBytesPerChunk", "200000001"));

        Assert.Contains(refused.Failures, f => f.StartsWith("Providers:az:MaxLinesPerChunk must be between 1 and 100000", StringComparison.Ordinal));
        Assert.Contains(refused.Failures, f => f.StartsWith("Providers:az:MaxBytesPerChunk must be between 2 and 200000000", StringComparison.Ordinal));
    }
}
