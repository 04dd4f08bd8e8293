using System.Text;
using System.Text.Json;

namespace BatchAspire.EndToEnd.Tests;

[Collection(nameof(AppHostCollection))]
public sealed class JobTests(AppHostFixture fixture)
{
    private const string DevelopmentKey = "ba-dev-key";

    [Fact]
    public async Task AcceptedJobCrossesRabbitMQToTheWorkersAndItsStateLandsInRedis()
    {
        var ct = TestContext.Current.CancellationToken;
        var sdk = new IntakeSdk(fixture.IntakeBaseUrl, DevelopmentKey);
        var fileId = await sdk.UploadAsync(Requests(3, "accepted"), "accepted.jsonl", ct);

        var batchId = await sdk.CreateBatchAsync(fileId, ct);
        var batch = await sdk.WaitForEndAsync(batchId, TimeSpan.FromMinutes(3), ct);

        Assert.Equal("completed", batch.GetProperty("status").GetString());
        Assert.Equal(3, batch.GetProperty("request_counts").GetProperty("completed").GetInt32());
        Assert.True(batch.GetProperty("usage").GetProperty("input_tokens").GetInt64() > 0);
        // The chunk counters the pipeline kept: one chunk, its results stored.
        Assert.Equal("""{"total":1,"open":0,"done":1}""", batch.GetProperty("chunks").GetRawText());
    }

    [Fact]
    public async Task CompletedJobShowsItsCostAndTheSavingAgainstStandardPrices()
    {
        var ct = TestContext.Current.CancellationToken;
        var sdk = new IntakeSdk(fixture.IntakeBaseUrl, DevelopmentKey);
        var fileId = await sdk.UploadAsync(Requests(10, "priced"), "priced.jsonl", ct);

        var batch = await sdk.WaitForEndAsync(await sdk.CreateBatchAsync(fileId, ct), TimeSpan.FromMinutes(3), ct);

        var cost = batch.GetProperty("cost");
        var batchUsd = cost.GetProperty("batch_usd").GetDouble();
        var standardUsd = cost.GetProperty("standard_usd").GetDouble();
        Assert.True(batchUsd > 0);
        Assert.Equal(standardUsd / 2, batchUsd, precision: 12);
        Assert.Equal(standardUsd - batchUsd, cost.GetProperty("savings_usd").GetDouble(), precision: 12);
    }

    [Fact]
    public async Task JobOf120000RequestsCompletesWithEveryCustomIdExactlyOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        const int count = 120_000;
        var sdk = new IntakeSdk(fixture.IntakeBaseUrl, DevelopmentKey);
        var fileId = await sdk.UploadAsync(Requests(count, "big"), "big.jsonl", ct);

        var batchId = await sdk.CreateBatchAsync(fileId, ct);
        var batch = await sdk.WaitForEndAsync(batchId, TimeSpan.FromMinutes(8), ct);

        Assert.Equal("completed", batch.GetProperty("status").GetString());
        var output = await sdk.ReadLinesAsync(batch.GetProperty("output_file_id"), ct);
        var errors = await sdk.ReadLinesAsync(batch.GetProperty("error_file_id"), ct);
        var ids = output.Concat(errors).Select(line => line.GetProperty("custom_id").GetString()!).ToList();
        Assert.Equal(count, ids.Count);
        Assert.Equal(count, ids.Distinct().Count());
        Assert.True(ids.All(id => id.StartsWith("big-", StringComparison.Ordinal)));
        var counts = batch.GetProperty("request_counts");
        Assert.Equal(count, counts.GetProperty("total").GetInt32());
        Assert.Equal(output.Count, counts.GetProperty("completed").GetInt32());
        Assert.Equal(errors.Count, counts.GetProperty("failed").GetInt32());
        // Input order: the output file lists the requests as the input did.
        Assert.Equal(output.Select(l => l.GetProperty("custom_id").GetString()), output.Select(l => l.GetProperty("custom_id").GetString()).OrderBy(id => int.Parse(id!.AsSpan(4))));
    }

    /// <summary>A JSONL stream of small chat requests with ids <c>{prefix}-{i}</c>.</summary>
    internal static MemoryStream Requests(int count, string prefix)
    {
        var text = new StringBuilder(count * 220);
        string[] reviews = ["I love this product! It's amazing!", "Terrible experience, would not recommend.", "It's okay, nothing special."];
        for (var i = 0; i < count; i++)
        {
            text.Append("{\"custom_id\":\"").Append(prefix).Append('-').Append(i)
                .Append("\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-5-nano\",\"messages\":[")
                .Append("{\"role\":\"system\",\"content\":\"Classify sentiment as: positive, negative, or neutral\"},")
                .Append("{\"role\":\"user\",\"content\":").Append(JsonSerializer.Serialize(reviews[i % reviews.Length])).Append("}],\"max_tokens\":10}}\n");
        }
        return new MemoryStream(Encoding.UTF8.GetBytes(text.ToString()));
    }
}
