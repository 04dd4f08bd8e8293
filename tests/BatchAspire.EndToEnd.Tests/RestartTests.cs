using System.Text.Json;

namespace BatchAspire.EndToEnd.Tests;

/// <summary>
/// The whole system stopped and started again on the same data folder, as <c>scripts/run.sh</c> does by default: what
/// it kept (Redis' append-only file, RabbitMQ's node, the blob store, the Sandbox) is all there. Its own AppHosts, one
/// after the other, so it is no collection's: collections run one at a time.
/// </summary>
public sealed class RestartTests
{
    private const string DevelopmentKey = "ba-dev-key";

    [Fact]
    public async Task ABatchItsInputAndItsOutputAreServedByteForByteAfterTheSystemRestartsOnItsDataFolder()
    {
        var ct = TestContext.Current.CancellationToken;
        var dataDirectory = Directory.CreateTempSubdirectory("batchaspire-restart-").FullName;
        try
        {
            string batchId, before, input, output;
            var app = await AppHostFixture.StartAsync(dataDirectory, []);
            await using (app)
            {
                var sdk = new IntakeSdk(new Uri(app.GetEndpoint("intake", "http"), "v1"), DevelopmentKey);
                var fileId = await sdk.UploadAsync(JobTests.Requests(50, "kept"), "kept.jsonl", ct);
                batchId = await sdk.CreateBatchAsync(fileId, ct);
                var batch = await sdk.WaitForEndAsync(batchId, TimeSpan.FromMinutes(3), ct);
                Assert.Equal("completed", batch.GetProperty("status").GetString());
                before = batch.GetRawText();
                using var intake = app.CreateHttpClient("intake", "http");
                input = await ContentAsync(intake, fileId, ct);
                output = await ContentAsync(intake, batch.GetProperty("output_file_id").GetString()!, ct);
                Assert.Equal(50, output.Count(c => c == '\n'));
                await app.StopAsync(ct).WaitAsync(TimeSpan.FromMinutes(1), ct);
            }

            app = await AppHostFixture.StartAsync(dataDirectory, []);
            await using (app)
            {
                var sdk = new IntakeSdk(new Uri(app.GetEndpoint("intake", "http"), "v1"), DevelopmentKey);
                var batch = await sdk.GetBatchAsync(batchId, ct);
                Assert.Equal(before, batch.GetRawText());
                using var intake = app.CreateHttpClient("intake", "http");
                Assert.Equal(input, await ContentAsync(intake, batch.GetProperty("input_file_id").GetString()!, ct));
                Assert.Equal(output, await ContentAsync(intake, batch.GetProperty("output_file_id").GetString()!, ct));
                // And the restarted pipeline still runs new work.
                var next = await sdk.WaitForEndAsync(await sdk.CreateBatchAsync(batch.GetProperty("input_file_id").GetString()!, ct), TimeSpan.FromMinutes(3), ct);
                Assert.Equal("completed", next.GetProperty("status").GetString());
                await app.StopAsync(ct).WaitAsync(TimeSpan.FromMinutes(1), ct);
            }
        }
        finally
        {
            try { Directory.Delete(dataDirectory, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<string> ContentAsync(HttpClient intake, string fileId, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/files/{fileId}/content");
        request.Headers.Authorization = new("Bearer", DevelopmentKey);
        using var response = await intake.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return text;
    }
}
