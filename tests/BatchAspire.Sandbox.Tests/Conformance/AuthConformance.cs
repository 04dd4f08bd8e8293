namespace BatchAspire.Conformance;

/// <summary>A7 for a server that enforces API keys (the intake; the Sandbox with <c>Sandbox:ApiKey</c> set).</summary>
public abstract class EnforcedAuthConformance
{
    protected abstract ConformanceTarget Target { get; }

    [Fact, Trait("conformance", "A7")]
    public async Task RequestsWithoutAValidKeyAre401InvalidApiKey()
    {
        var ct = TestContext.Current.CancellationToken;
        using var api = await OpenAIApi.CreateAsync(Target, ct);
        using var anonymous = await api.Http.GetAsync(api.Url("files"), ct);
        Assert.Equal("invalid_api_key", (await Wire.AssertErrorAsync(anonymous, 401)).Str("code"));
        using var wrong = new HttpRequestMessage(HttpMethod.Get, api.Url("batches"));
        wrong.Headers.Authorization = new("Bearer", "sk-wrong-" + Guid.NewGuid().ToString("N"));
        using var response = await api.Http.SendAsync(wrong, ct);
        Assert.Equal("invalid_api_key", (await Wire.AssertErrorAsync(response, 401)).Str("code"));
        await api.OkJsonAsync(HttpMethod.Get, "files", ct: ct);
    }
}

/// <summary>A7 for a server with auth disabled (the Sandbox by default): any Bearer value works.</summary>
public abstract class OpenAccessConformance
{
    protected abstract ConformanceTarget Target { get; }

    [Fact, Trait("conformance", "A7")]
    public async Task AnyBearerTokenIsAcceptedWhenAuthIsDisabled()
    {
        var ct = TestContext.Current.CancellationToken;
        using var api = await OpenAIApi.CreateAsync(Target, ct);
        foreach (var token in new[] { "anything", "sk-" + Guid.NewGuid().ToString("N"), "x" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, api.Url("batches"));
            request.Headers.Authorization = new("Bearer", token);
            using var response = await api.Http.SendAsync(request, ct);
            await Wire.AssertOkJsonAsync(response);
        }
    }
}
