using System.Text;

namespace BatchAspire.Conformance;

/// <summary>
/// Limits a provider enforces on one batch (B17: 200 MB; D41: 50,000 lines). A server that splits
/// large jobs itself (the intake) does not derive this class.
/// </summary>
public abstract class ProviderLimitsConformance
{
    protected abstract ConformanceTarget Target { get; }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact, Trait("conformance", "B17")]
    public async Task ABatchUploadOver200MegabytesIs400FileTooLarge()
    {
        using var api = await OpenAIApi.CreateAsync(Target, Ct);
        var line = Encoding.UTF8.GetBytes(Jsonl.Chat("x", new string('a', 900)) + "\n");
        var content = Multipart.Build(Guid.NewGuid().ToString("N"), quoted: false, chunked: false,
            Multipart.Field("purpose", "batch"),
            Multipart.PythonFile(new RepeatedLinesStream(line, 210_000_000), "big.jsonl"));
        using var response = await api.SendAsync(HttpMethod.Post, "files", content, Ct);
        var error = await Wire.AssertErrorAsync(response, 400);
        Assert.Equal("File is too large.", error.Str("message"));
    }

    [Fact, Trait("conformance", "D41")]
    public async Task AFileOfMoreThan50000LinesFailsWithTooManyTasks()
    {
        using var api = await OpenAIApi.CreateAsync(Target, Ct);
        var batch = await api.SubmitAsync(Jsonl.ChatFile(50_001), ct: Ct);
        var failed = await api.WaitForAsync(batch.Str("id"), Ct);
        Assert.Equal("failed", failed.Str("status"));
        var codes = failed.GetProperty("errors").GetProperty("data").EnumerateArray().Select(e => e.Str("code"));
        Assert.Contains("too_many_tasks", codes);
    }
}
