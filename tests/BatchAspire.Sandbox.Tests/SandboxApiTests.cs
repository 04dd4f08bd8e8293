using System.Net.Http.Headers;

namespace BatchAspire.Sandbox.Tests;

/// <summary>Sandbox behaviour beyond the conformance list: root-path routes and per-token projects.</summary>
public sealed class SandboxApiTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TheApiIsAlsoServedAtTheRootForBaseUrlsWithoutV1()
    {
        using var api = await OpenAIApi.CreateAsync(sandbox.Target, Ct);
        var fileId = (await api.UploadAsync(Jsonl.ChatFile(1), ct: Ct)).Str("id");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(sandbox.Host.RootUrl, $"files/{fileId}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", api.ApiKey);
        using var response = await api.Http.SendAsync(request, Ct);
        Assert.Equal(fileId, (await Wire.AssertOkJsonAsync(response)).Str("id"));
        using var unknown = await api.Http.GetAsync(new Uri(sandbox.Host.RootUrl, "nope"), Ct);
        await Wire.AssertErrorAsync(unknown, 404);
    }

    [Fact]
    public async Task EachBearerTokenIsItsOwnProject()
    {
        using var owner = await OpenAIApi.CreateAsync(sandbox.Target, Ct);
        using var stranger = await OpenAIApi.CreateAsync(sandbox.Target, Ct);
        var batch = await owner.SubmitAsync(Jsonl.ChatFile(1), ct: Ct);
        using var file = await stranger.SendAsync(HttpMethod.Get, $"files/{batch.Str("input_file_id")}", ct: Ct);
        await Wire.AssertErrorAsync(file, 404);
        using var other = await stranger.SendAsync(HttpMethod.Get, $"batches/{batch.Str("id")}", ct: Ct);
        await Wire.AssertErrorAsync(other, 404);
        Assert.Empty((await stranger.OkJsonAsync(HttpMethod.Get, "batches", ct: Ct)).GetProperty("data").EnumerateArray());
    }
}
