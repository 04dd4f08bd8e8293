using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using BatchAspire.Contracts;
using RabbitMQ.Client;
using StackExchange.Redis;

namespace BatchAspire.EndToEnd.Tests;

/// <summary>
/// Two replicas of every service: work is spread over them, none is done twice, none is lost, and a
/// <c>ChunkFinished</c> the broker drops is announced again from Redis.
/// </summary>
[Collection(nameof(ScaleOutCollection))]
public sealed class ScaleOutTests(ScaleOutFixture fixture)
{
    private const string DevelopmentKey = "ba-dev-key";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IDatabase Db => fixture.Redis.GetDatabase();

    [Fact]
    public async Task AJobOnTwoReplicasOfEveryServiceAnswersEveryRequestOnceWithOneProviderBatchPerChunk()
    {
        const int count = 3_000;
        var clock = Stopwatch.StartNew();
        var sdk = new IntakeSdk(fixture.IntakeBaseUrl, DevelopmentKey);
        var batchId = await sdk.CreateBatchAsync(await sdk.UploadAsync(JobTests.Requests(count, "scale"), "scale.jsonl", Ct), Ct);

        var batch = await sdk.WaitForEndAsync(batchId, TimeSpan.FromSeconds(90), Ct);

        Assert.Equal("completed", batch.GetProperty("status").GetString());
        await AssertEveryRequestAnsweredOnceAsync(sdk, batch, count, "scale");
        var chunks = await ChunksOfAsync(batchId);
        Assert.True(chunks.Count >= count / 250, $"{chunks.Count} chunks");
        await AssertOneProviderBatchPerChunkAsync(batchId, chunks);

        // Whichever replica took a message: every chunk was created once, and both replicas of each worker took some.
        await WaitForAsync(() => fixture.LinesPerReplica(ResourceNames.Submitter, $"for chunk {batchId}.").Values.Sum(), n => n >= chunks.Count, TimeSpan.FromSeconds(15));
        var created = fixture.LinesPerReplica(ResourceNames.Submitter, $"for chunk {batchId}.");
        var stored = fixture.LinesPerReplica(ResourceNames.Results, $"of job {batchId}:");
        var polled = fixture.LinesPerReplica(ResourceNames.Poller, $"(job {batchId}) ended");
        Assert.Equal(chunks.Count, created.Values.Sum());
        Assert.All(created.Values, n => Assert.True(n > 0, $"a submitter replica created no batch: {Describe(created)}"));
        Assert.All(stored.Values, n => Assert.True(n > 0, $"a results replica stored no chunk: {Describe(stored)}"));
        AssertNothingGivenUp();
        Report(
            $"scale-out job: {count} requests, {chunks.Count} chunks, {clock.Elapsed.TotalSeconds:0.0} s; batches created per submitter {Describe(created)}; " +
            $"chunk passes per results replica {Describe(stored)}; finished chunks per poller {Describe(polled)}; " +
            $"ChunkFinished re-announced {Republished(batchId)}; AppHost start {fixture.StartTime.TotalSeconds:0} s");
    }

    [Fact]
    public async Task UploadsOnNewConnectionsReachBothIntakeReplicasAndEitherServesWhatTheOtherStored()
    {
        const int uploads = 12;
        var fileIds = new List<string>();
        for (var i = 0; i < uploads; i++)
        {
            // A new connection each time: Aspire's proxy spreads connections, not requests.
            using var http = NewConnection();
            using var form = new MultipartFormDataContent
            {
                { new StringContent("batch"), "purpose" },
                { new ByteArrayContent(JobTests.Requests(2, $"spread{i}").ToArray()), "file", $"spread{i}.jsonl" },
            };
            using var response = await http.PostAsync("files", form, Ct);
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
            fileIds.Add(JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!);
        }

        // Console lines reach the test a moment after they are written.
        var logged = await WaitForAsync(() => fileIds.Count(id => fixture.ConsoleLogs.Any(l => l.Line.Contains($"Stored file {id} ", StringComparison.Ordinal))),
            n => n == uploads, TimeSpan.FromSeconds(15));
        Assert.Equal(uploads, logged);
        var stored = fixture.LinesPerReplica(ResourceNames.Intake, "Stored file");
        Assert.All(stored.Values, n => Assert.True(n > 0, $"an intake replica stored no file: {Describe(stored)}"));
        foreach (var fileId in fileIds)
        {
            using var http = NewConnection();
            var content = await http.GetStringAsync($"files/{fileId}/content", Ct);
            Assert.Equal(2, content.Count(c => c == '\n'));
        }
        Report($"uploads per intake replica: {Describe(stored)}");
    }

    [Fact]
    public async Task AChunkFinishedTheBrokerDropsIsAnnouncedAgainAndTheJobCompletesWithEveryAnswerOnce()
    {
        const int count = 500;
        var sdk = new IntakeSdk(fixture.IntakeBaseUrl, DevelopmentKey);
        var fileId = await sdk.UploadAsync(JobTests.Requests(count, "dropped"), "dropped.jsonl", Ct);

        // The broker loses every ChunkFinished published meanwhile: MassTransit's exchange for the message type no
        // longer routes to the results queue's exchange, so a publish is confirmed and goes nowhere, as a message is
        // lost when a queue is purged or a broker's disk is. Nothing is changed in BatchAspire itself.
        var factory = new ConnectionFactory { Uri = new Uri(fixture.MessagingConnectionString) };
        await using var connection = await factory.CreateConnectionAsync(Ct);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: Ct);
        const string messageExchange = "BatchAspire.Contracts:ChunkFinished", resultsExchange = "chunk-finished";
        string batchId;
        IReadOnlyList<string> chunks;
        await channel.ExchangeUnbindAsync(resultsExchange, messageExchange, "", cancellationToken: Ct);
        try
        {
            batchId = await sdk.CreateBatchAsync(fileId, Ct);
            chunks = await WaitUntilEveryChunkFinishedAtTheProviderAsync(batchId, expected: 2, TimeSpan.FromSeconds(60));
            // Long enough for a pass over a 250-line chunk to be done, had its message arrived.
            await Task.Delay(TimeSpan.FromSeconds(2), Ct);
            foreach (var chunk in chunks)
            {
                Assert.False(await Db.HashExistsAsync(ChunkKey(chunk), "results_done"), $"{chunk}'s ChunkFinished was not lost");
                Assert.NotNull(await Db.SortedSetScoreAsync("ba:chunks:finished", chunk));
            }
        }
        finally
        {
            await channel.ExchangeBindAsync(resultsExchange, messageExchange, "", cancellationToken: CancellationToken.None);
        }

        var batch = await sdk.WaitForEndAsync(batchId, TimeSpan.FromSeconds(60), Ct);

        Assert.Equal("completed", batch.GetProperty("status").GetString());
        await AssertEveryRequestAnsweredOnceAsync(sdk, batch, count, "dropped");
        await AssertOneProviderBatchPerChunkAsync(batchId, chunks);
        await WaitForAsync(() => Republished(batchId), n => n >= chunks.Count, TimeSpan.FromSeconds(15));
        Assert.True(Republished(batchId) >= chunks.Count, $"{Republished(batchId)} announcements again for {chunks.Count} chunks");
        Assert.All(chunks, chunk => Assert.Null(Db.SortedSetScore("ba:chunks:finished", chunk)));
        AssertNothingGivenUp();
        Report($"dropped ChunkFinished: {chunks.Count} chunks, re-announced {Republished(batchId)} times");
    }

    private static void Report(string figures) => TestContext.Current.TestOutputHelper?.WriteLine(figures);

    private static async Task<int> WaitForAsync(Func<int> read, Func<int, bool> done, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (!done(read()) && DateTime.UtcNow < deadline) await Task.Delay(100, Ct);
        return read();
    }

    private HttpClient NewConnection()
    {
        var http = new HttpClient { BaseAddress = new Uri(fixture.IntakeBaseUrl + "/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", DevelopmentKey);
        http.DefaultRequestHeaders.ConnectionClose = true;
        return http;
    }

    private static async Task AssertEveryRequestAnsweredOnceAsync(IntakeSdk sdk, JsonElement batch, int count, string prefix)
    {
        var output = await sdk.ReadLinesAsync(batch.GetProperty("output_file_id"), Ct);
        var errors = await sdk.ReadLinesAsync(batch.GetProperty("error_file_id"), Ct);
        var ids = output.Concat(errors).Select(line => line.GetProperty("custom_id").GetString()!).ToList();
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"{prefix}-{i}").Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
        var counts = batch.GetProperty("request_counts");
        Assert.Equal(count, counts.GetProperty("total").GetInt32());
        Assert.Equal(output.Count, counts.GetProperty("completed").GetInt32());
        Assert.Equal(errors.Count, counts.GetProperty("failed").GetInt32());
    }

    /// <summary>At the Sandbox: one provider batch for each chunk attempt of the job, and none for anything else.</summary>
    private async Task AssertOneProviderBatchPerChunkAsync(string batchId, IReadOnlyList<string> chunks)
    {
        var batches = (await fixture.ProviderBatchesAsync(Ct)).Where(b => Metadata(b, "batchaspire_job") == batchId).ToList();
        var perAttempt = batches.GroupBy(b => (Metadata(b, "batchaspire_chunk"), Metadata(b, "batchaspire_attempt"))).ToList();
        Assert.All(perAttempt, g => Assert.True(g.Count() == 1, $"chunk {g.Key} got {g.Count()} provider batches"));
        Assert.Equal(chunks.Order(StringComparer.Ordinal), perAttempt.Select(g => g.Key.Item1!).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(chunks.Count, batches.Count);
    }

    private async Task<IReadOnlyList<string>> ChunksOfAsync(string batchId) =>
        [.. (await Db.ListRangeAsync($"ba:{{{batchId}}}:chunks")).Select(v => (string)v!)];

    private async Task<IReadOnlyList<string>> WaitUntilEveryChunkFinishedAtTheProviderAsync(string batchId, int expected, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (true)
        {
            var chunks = await ChunksOfAsync(batchId);
            var done = 0;
            foreach (var chunk in chunks) if (await Db.HashExistsAsync(ChunkKey(chunk), "poll_done_at_ms")) done++;
            if (chunks.Count == expected && done == expected) return chunks;
            Assert.True(DateTime.UtcNow < deadline, $"{done} of {chunks.Count} chunks of {batchId} finished at the provider after {bound}");
            await Task.Delay(200, Ct);
        }
    }

    private static string ChunkKey(string chunkId) =>
        $"ba:{{{chunkId[..chunkId.LastIndexOf('.')]}}}:chunk:{chunkId[(chunkId.LastIndexOf('.') + 1)..]}";

    private int Republished(string batchId) =>
        fixture.ConsoleLogs.Count(l => l.Resource == ResourceNames.Results
            && l.Line.Contains("published ChunkFinished again", StringComparison.Ordinal) && l.Line.Contains($"of job {batchId} ", StringComparison.Ordinal));

    /// <summary>No replica dead-lettered a message (MassTransit's R-FAULT) or lost a background loop.</summary>
    private void AssertNothingGivenUp()
    {
        var given = fixture.ConsoleLogs
            .Where(l => l.Line.Contains("R-FAULT", StringComparison.Ordinal) || l.Line.Contains("BackgroundService failed", StringComparison.Ordinal))
            .Take(5).Select(l => $"{l.ResourceId}: {l.Line}").ToList();
        Assert.True(given.Count == 0, "a service gave up: " + string.Join(" | ", given));
    }

    private static string? Metadata(JsonElement batch, string key) =>
        batch.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
        && metadata.TryGetProperty(key, out var value) ? value.GetString() : null;

    private static string Describe(Dictionary<string, int> perReplica) =>
        string.Join(", ", perReplica.Select(p => $"{p.Key}={p.Value}"));
}
