using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace BatchAspire.EndToEnd.Tests;

[Collection(nameof(AppHostCollection))]
public sealed class FaultJobTests(AppHostFixture fixture)
{
    private const int Requests = 1_000;
    private const int PermanentFailures = 20;

    [Fact]
    public async Task UnderProviderFaultsEveryRequestIsAnsweredAndOnlyPermanentFailuresReachTheErrorFile()
    {
        var ct = TestContext.Current.CancellationToken;
        using var sandbox = fixture.CreateSandboxClient();
        // 10% of lines fail with 500; the first batch expires after 2 s, which its per-line latency
        // makes sure it cannot beat; the next three batch creates are refused with 429.
        var faults = new
        {
            line_fail_500_rate = 0.1,
            line_latency_ms = 5,
            expire_after_seconds = 2.0,
            expire_next_batches = 1,
            api_fail_next_429 = 3,
            api_fail_path_prefix = "/v1/batches",
            api_fail_method = "POST",
        };
        (await sandbox.PutAsJsonAsync("/sandbox/faults", faults, ct)).EnsureSuccessStatusCode();
        try
        {
            var sdk = new IntakeSdk(fixture.IntakeBaseUrl, "ba-dev-key");
            var fileId = await sdk.UploadAsync(RequestsWithPermanentFailures(), "faults.jsonl", ct);
            var batchId = await sdk.CreateBatchAsync(fileId, ct);
            var batch = await sdk.WaitForEndAsync(batchId, TimeSpan.FromMinutes(4), ct);

            Assert.Equal("completed", batch.GetProperty("status").GetString());
            var output = await sdk.ReadLinesAsync(batch.GetProperty("output_file_id"), ct);
            var errors = await sdk.ReadLinesAsync(batch.GetProperty("error_file_id"), ct);
            var answered = output.Concat(errors).Select(l => l.GetProperty("custom_id").GetString()).ToList();
            Assert.Equal(Requests, answered.Count);
            Assert.Equal(Requests, answered.Distinct().Count());
            // Only the requests whose body the model endpoint refuses (max_tokens 0) are final failures.
            Assert.Equal(PermanentFailures, errors.Count);
            Assert.All(errors, line =>
            {
                Assert.StartsWith("bad-", line.GetProperty("custom_id").GetString(), StringComparison.Ordinal);
                Assert.Equal(400, line.GetProperty("response").GetProperty("status_code").GetInt32());
            });

            // At the provider: the first batch expired, failed lines went out again as new attempts,
            // and no chunk attempt was created twice despite the refused creates.
            var providerBatches = await ProviderBatchesOfJobAsync(sandbox, batchId, ct);
            Assert.Contains(providerBatches, b => b.Status == "expired");
            Assert.Contains(providerBatches, b => b.Attempt > 1);
            Assert.Equal(providerBatches.Count, providerBatches.Select(b => (b.Chunk, b.Attempt)).Distinct().Count());
        }
        finally
        {
            (await sandbox.DeleteAsync("/sandbox/faults", CancellationToken.None)).EnsureSuccessStatusCode();
        }
    }

    internal sealed record ProviderBatch(string Chunk, int Attempt, string Status);

    /// <summary>The Sandbox's batches created for one job, read from the metadata the submitter gives them.</summary>
    internal static async Task<IReadOnlyList<ProviderBatch>> ProviderBatchesOfJobAsync(HttpClient sandbox, string jobId, CancellationToken ct)
    {
        var found = new List<ProviderBatch>();
        string? after = null;
        do
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, after is null ? "/v1/batches?limit=100" : $"/v1/batches?limit=100&after={after}");
            request.Headers.Authorization = new("Bearer", "sandbox");
            using var response = await sandbox.SendAsync(request, ct);
            using var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            foreach (var batch in page.RootElement.GetProperty("data").EnumerateArray())
            {
                if (batch.GetProperty("metadata") is { ValueKind: JsonValueKind.Object } metadata &&
                    metadata.TryGetProperty("batchaspire_job", out var job) && job.GetString() == jobId)
                {
                    found.Add(new ProviderBatch(metadata.GetProperty("batchaspire_chunk").GetString()!,
                        int.Parse(metadata.GetProperty("batchaspire_attempt").GetString()!), batch.GetProperty("status").GetString()!));
                }
            }
            after = page.RootElement.GetProperty("has_more").GetBoolean() ? page.RootElement.GetProperty("last_id").GetString() : null;
        }
        while (after is not null);
        return found;
    }

    private static MemoryStream RequestsWithPermanentFailures()
    {
        var text = new StringBuilder();
        for (var i = 0; i < Requests; i++)
        {
            var bad = i % (Requests / PermanentFailures) == 0;
            text.Append("{\"custom_id\":\"").Append(bad ? "bad-" : "ok-").Append(i)
                .Append("\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-5-nano\",")
                .Append("\"messages\":[{\"role\":\"user\",\"content\":\"Classify sentiment: great value\"}],\"max_tokens\":")
                .Append(bad ? 0 : 10).Append("}}\n");
        }
        return new MemoryStream(Encoding.UTF8.GetBytes(text.ToString()));
    }
}
