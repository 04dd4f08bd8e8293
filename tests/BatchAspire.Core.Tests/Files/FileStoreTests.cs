using System.Text;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jsonl;
using BatchAspire.Core.Redis;

namespace BatchAspire.Core.Tests.Files;

/// <summary>The file store against a real Redis (a database per test: expiry sweeps read global sets) and a blob store the tests share.</summary>
public sealed class FileStoreTests(RedisFixture fixture) : IAsyncLifetime
{
    private static readonly FileUploadLimits Limits = new(1L << 30, 1 << 20);
    private IsolatedRedis _redis = null!;
    private RedisFileStore _store = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _redis = await fixture.IsolatedAsync(Ct);
        _store = new RedisFileStore(_redis.Multiplexer, fixture.Blobs.Store, TimeProvider.System);
    }

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task LinesReadBackExactlyAcrossSegments()
    {
        var lines = TestJsonl.VariedRequests(12_000);
        var file = await UploadAsync(TestJsonl.File([.. lines]));

        Assert.Equal(12_000, file.Lines);
        Assert.Equal(lines, await ReadAsync(file.Id, 0, 12_000));
        Assert.Equal(lines[5_000..8_000], await ReadAsync(file.Id, 5_000, 3_000));
        Assert.Equal(lines[11_990..], await ReadAsync(file.Id, 11_990, 100));
    }

    [Fact]
    public async Task ChosenLinesReadBackByIndex()
    {
        var lines = TestJsonl.VariedRequests(12_000);
        var file = await UploadAsync(TestJsonl.File([.. lines]));
        long[] wanted = [0, 1, 4_000, 4_001, 9_999, 11_999];

        var read = new List<(long, string)>();
        await foreach (var (index, line) in _store.ReadLinesAsync(file.Id, wanted, Ct)) read.Add((index, Encoding.UTF8.GetString(line.Span)));

        Assert.Equal(wanted.Select(i => (i, lines[(int)i])), read);
    }

    [Fact]
    public async Task LineLengthsMatchTheLines()
    {
        var lines = TestJsonl.VariedRequests(20_000);
        var file = await UploadAsync(TestJsonl.File([.. lines]));

        var lengths = new List<int>();
        await foreach (var length in _store.ReadLineLengthsAsync(file.Id, 100, 19_900, Ct)) lengths.Add(length);

        Assert.Equal(lines.Skip(100).Select(l => l.Length), lengths);
    }

    [Fact]
    public async Task ContentReadsBackByteForByteWhileTrailingBlankLinesAreNotLines()
    {
        var bytes = Encoding.UTF8.GetBytes(TestJsonl.Request("a") + "\r\n" + TestJsonl.Request("b") + "\r\n\r\n\n");
        var file = await UploadAsync(bytes);

        Assert.Equal(2, file.Lines);
        Assert.Equal(bytes.Length, file.Bytes);
        Assert.Equal(bytes, await ContentAsync(file.Id));
        Assert.Empty((await _store.GetAnalysisAsync(file.Id, Ct))!.Errors);
    }

    [Fact]
    public async Task LastLineWithoutNewlineIsALine()
    {
        var bytes = Encoding.UTF8.GetBytes(TestJsonl.Request("a") + "\n" + TestJsonl.Request("b"));
        var file = await UploadAsync(bytes);

        Assert.Equal(2, file.Lines);
        Assert.Equal([TestJsonl.Request("a"), TestJsonl.Request("b")], await ReadAsync(file.Id, 0, 2));
    }

    [Fact]
    public async Task AnUploadIsAnalysedOnlyWhenFirstAskedAndTheAnalysisIsKeptWithTheFile()
    {
        var file = await UploadAsync(TestJsonl.File(TestJsonl.Request("a"), "{not json"));
        var db = _redis.Db;
        Assert.False(await db.HashExistsAsync(RedisKeys.File(file.Id), FileFields.Errors));

        var analysis = (await _store.GetAnalysisAsync(file.Id, Ct))!;

        Assert.Equal((LineErrorCodes.InvalidJsonLine, 2L), (Assert.Single(analysis.Errors).Code, analysis.Errors[0].Line!.Value));
        Assert.True(await db.HashExistsAsync(RedisKeys.File(file.Id), FileFields.Errors));
        Assert.Equal(analysis.Errors, (await _store.GetAnalysisAsync(file.Id, Ct))!.Errors);
    }

    [Fact]
    public async Task AnalysisNamesTheRightLinesAcrossSegmentsWithCrlfEndingsAndABom()
    {
        var lines = TestJsonl.VariedRequests(12_000);
        lines[0] = "\uFEFF" + lines[0];
        lines[6_000] = "   ";
        lines[11_000] = "{\"custom_id\":\"broken\"";
        var bytes = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\r\n")) + "\r\n\r\n");
        Assert.True(bytes.Length > 3 * FileLayout.SegmentBytes);
        var file = await UploadAsync(bytes);

        var analysis = (await _store.GetAnalysisAsync(file.Id, Ct))!;

        Assert.Equal(12_000, file.Lines);
        Assert.Equal([(LineErrorCodes.InvalidJsonLine, 6_001L), (LineErrorCodes.InvalidJsonLine, 11_001L)],
            analysis.Errors.Select(e => (e.Code, e.Line!.Value)));
    }

    [Theory]
    [InlineData("", 0, "")]
    [InlineData("\n \r\n\t\n", 0, "")]
    [InlineData("\uFEFF", 1, "invalid_json_line@1")]
    [InlineData("{\"custom_id\":\"a\"}", 1, "missing_required_parameter@1 missing_required_parameter@1 missing_required_parameter@1")]
    [InlineData("LONG", 1, "request_too_large@1")]
    [InlineData("LONG\n\n", 1, "request_too_large@1")]
    public async Task OddFilesAreAnalysedWithoutFailing(string content, long lines, string errors)
    {
        var bytes = Encoding.UTF8.GetBytes(content.Replace("LONG", "{\"custom_id\":\"" + new string('z', 2_500_000) + "\"}", StringComparison.Ordinal));
        var file = await UploadAsync(bytes, new FileUploadLimits(1L << 30, 1 << 20));

        var analysis = (await _store.GetAnalysisAsync(file.Id, Ct))!;

        Assert.Equal(lines, file.Lines);
        Assert.Equal(errors, string.Join(' ', analysis.Errors.Select(e => $"{e.Code}@{e.Line}")));
    }

    [Fact]
    public async Task OnlyBatchUploadsHaveAnAnalysis()
    {
        var file = await UploadAsync(TestJsonl.File(TestJsonl.Request("a")), purpose: "user_data");

        Assert.Null(await _store.GetAnalysisAsync(file.Id, Ct));
        Assert.False(await _redis.Db.HashExistsAsync(RedisKeys.File(file.Id), FileFields.Errors));
    }

    [Fact]
    public async Task EveryRepeatOfACustomIdIsReportedOnItsOwnLineAndTheFirstLineKeepsTheId()
    {
        var lines = TestJsonl.VariedRequests(5_000);
        lines.Insert(1_000, TestJsonl.Request("req-7"));
        lines.Add(TestJsonl.Request("req-7"));
        lines.Add(TestJsonl.Request("req-4999"));
        var file = await UploadAsync(TestJsonl.File([.. lines]));

        var analysis = (await _store.GetAnalysisAsync(file.Id, Ct))!;

        Assert.Equal([(LineErrorCodes.DuplicateCustomId, 1_001L), (LineErrorCodes.DuplicateCustomId, 5_002L), (LineErrorCodes.DuplicateCustomId, 5_003L)],
            analysis.Errors.Select(e => (e.Code, e.Line!.Value)));
        Assert.Contains("'req-7'", analysis.Errors[0].Message);
        Assert.Contains("'req-4999'", analysis.Errors[2].Message);
    }

    [Fact]
    public async Task AnalysisNamesEveryBadLineWithItsNumber()
    {
        var file = await UploadAsync(TestJsonl.File(
            TestJsonl.Request("a"),
            "{not json",
            """{"method":"POST","url":"/v1/chat/completions","body":{"model":"m"}}""",
            """{"custom_id":"d","method":"GET","url":"/v1/chat/completions","body":{"model":"m"}}""",
            """{"custom_id":"e","method":"POST","url":"/v1/chat/completions"}""",
            """{"custom_id":"f","method":"POST","url":"/v1/chat/completions","body":"text"}""",
            "",
            TestJsonl.Request("a"),
            "[1,2]",
            """{"custom_id":"","method":"POST","url":"/v1/embeddings","body":{"model":"other"}}"""));

        var analysis = (await _store.GetAnalysisAsync(file.Id, Ct))!;

        Assert.Equal(
        [
            (LineErrorCodes.InvalidJsonLine, (string?)null, 2L),
            (LineErrorCodes.MissingRequiredParameter, "custom_id", 3L),
            (LineErrorCodes.InvalidValue, "method", 4L),
            (LineErrorCodes.MissingRequiredParameter, "body", 5L),
            (LineErrorCodes.InvalidValue, "body", 6L),
            (LineErrorCodes.InvalidJsonLine, null, 7L),
            (LineErrorCodes.DuplicateCustomId, "custom_id", 8L),
            (LineErrorCodes.InvalidValue, null, 9L),
            (LineErrorCodes.InvalidValue, "custom_id", 10L),
        ], analysis.Errors.Select(e => (e.Code, e.Param, e.Line!.Value)));
        Assert.Equal([new FirstSeen("/v1/chat/completions", 1), new FirstSeen("/v1/embeddings", 10)], analysis.Urls);
        Assert.Equal([new FirstSeen("gpt-4o-mini", 1), new FirstSeen("m", 3), new FirstSeen("other", 10)], analysis.Models);
        Assert.False(analysis.MethodsOk);
    }

    [Fact]
    public async Task DuplicateCustomIdFarApartIsFound()
    {
        var lines = TestJsonl.VariedRequests(30_000);
        lines.Add(TestJsonl.Request("req-3"));
        var file = await UploadAsync(TestJsonl.File([.. lines]));

        var error = Assert.Single((await _store.GetAnalysisAsync(file.Id, Ct))!.Errors);
        Assert.Equal((LineErrorCodes.DuplicateCustomId, 30_001L), (error.Code, error.Line!.Value));
    }

    [Fact]
    public async Task EscapedCustomIdIsTheSameIdAsItsPlainSpelling()
    {
        var file = await UploadAsync(TestJsonl.File(TestJsonl.Request("ab"), """{"custom_id":"a\u0062","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini"}}"""));

        var error = Assert.Single((await _store.GetAnalysisAsync(file.Id, Ct))!.Errors);
        Assert.Equal((LineErrorCodes.DuplicateCustomId, 2L), (error.Code, error.Line!.Value));
        Assert.Contains("'ab'", error.Message);
    }

    [Fact]
    public async Task LineOverTheLimitIsReportedAndStoredWhole()
    {
        var huge = TestJsonl.Request("big", content: new string('y', 3_000_000));
        var bytes = TestJsonl.File(TestJsonl.Request("a"), huge, TestJsonl.Request("c"));
        var file = await UploadAsync(bytes, new FileUploadLimits(1L << 30, 100_000));

        Assert.Equal(3, file.Lines);
        Assert.Equal(bytes, await ContentAsync(file.Id));
        var error = Assert.Single((await _store.GetAnalysisAsync(file.Id, Ct))!.Errors);
        Assert.Equal((LineErrorCodes.RequestTooLarge, 2L), (error.Code, error.Line!.Value));
    }

    [Fact]
    public async Task LongLineUnderTheLimitStaysOneReadableLine()
    {
        string[] lines = [TestJsonl.Request("a"), TestJsonl.Request("big", content: new string('y', 2_500_000)), TestJsonl.Request("c")];
        var file = await UploadAsync(TestJsonl.File(lines), new FileUploadLimits(1L << 30, 4 << 20));

        Assert.Equal(lines, await ReadAsync(file.Id, 0, 3));
        Assert.Empty((await _store.GetAnalysisAsync(file.Id, Ct))!.Errors);
    }

    [Fact]
    public async Task WrittenFileIsVisibleToItsTenantOnlyAfterCommit()
    {
        var tenant = RedisFixture.NewTenant();
        await using var writer = _store.CreateWriter(tenant, "out.jsonl", FilePurposes.BatchOutput, 123);
        var lines = TestJsonl.VariedRequests(5_000);
        foreach (var line in lines) await writer.WriteLineAsync(Encoding.UTF8.GetBytes(line), Ct);
        Assert.Null(await _store.GetAsync(writer.FileId, Ct));

        var stored = await writer.CommitAsync(Ct);

        Assert.Equal(stored, await _store.GetAsync(writer.FileId, Ct));
        Assert.Null(await _store.FindAsync(RedisFixture.NewTenant(), writer.FileId, Ct));
        Assert.Equal(lines, await ReadAsync(writer.FileId, 0, 5_000));
        Assert.Equal(TestJsonl.File([.. lines]), await ContentAsync(writer.FileId));
        Assert.Equal((5_000L, (long)TestJsonl.File([.. lines]).Length, 123L), (stored.Lines, stored.Bytes, stored.ExpiresAt!.Value));
    }

    [Fact]
    public async Task ListPagesNewestFirstAndFiltersByPurpose()
    {
        var tenant = RedisFixture.NewTenant();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++) ids.Add((await UploadAsync(TestJsonl.File(TestJsonl.Request("a")), tenant: tenant, purpose: i % 2 == 0 ? "batch" : "user_data")).Id);

        var first = (await _store.ListAsync(tenant, null, 2, false, null, Ct))!;
        var second = (await _store.ListAsync(tenant, null, 2, false, first.Data[^1].Id, Ct))!;
        var third = (await _store.ListAsync(tenant, null, 2, false, second.Data[^1].Id, Ct))!;
        var batchAscending = (await _store.ListAsync(tenant, "batch", 10, true, null, Ct))!;

        Assert.Equal([ids[4], ids[3], ids[2], ids[1], ids[0]], first.Data.Concat(second.Data).Concat(third.Data).Select(f => f.Id));
        Assert.Equal([true, true, false], new[] { first.HasMore, second.HasMore, third.HasMore });
        Assert.Equal([ids[0], ids[2], ids[4]], batchAscending.Data.Select(f => f.Id));
        Assert.Null(await _store.ListAsync(RedisFixture.NewTenant(), null, 2, false, ids[0], Ct));
    }

    [Fact]
    public async Task DeleteIsTenantScoped()
    {
        var tenant = RedisFixture.NewTenant();
        var file = await UploadAsync(TestJsonl.File(TestJsonl.Request("a")), tenant: tenant);

        Assert.False(await _store.DeleteAsync(RedisFixture.NewTenant(), file.Id, Ct));
        Assert.True(await _store.DeleteAsync(tenant, file.Id, Ct));
        Assert.Null(await _store.GetAsync(file.Id, Ct));
        Assert.False(await _store.DeleteAsync(tenant, file.Id, Ct));
    }

    [Fact]
    public async Task ExpiredFilesAreDeletedWithEveryKeyWhileOthersStay()
    {
        var tenant = RedisFixture.NewTenant();
        var bytes = TestJsonl.File([.. TestJsonl.VariedRequests(3_000)]);
        var expired = await UploadAsync(bytes, tenant: tenant, expiresAfterSeconds: 1);
        var expiresLater = await UploadAsync(bytes, tenant: tenant, expiresAfterSeconds: 3_600);
        var neverExpires = await UploadAsync(bytes, tenant: tenant);
        var db = _redis.Db;
        async Task<int> StoredPiecesAsync(string fileId) =>
            (await db.KeyExistsAsync(RedisKeys.File(fileId)) ? 1 : 0) + (await fixture.Blobs.NamesAsync(BlobPrefixes.File(fileId) + ".")).Count;
        Assert.Equal(3, await StoredPiecesAsync(expired.Id));   // the hash, .data and .index

        var deleted = await _store.DeleteExpiredAsync(DateTimeOffset.UtcNow.AddSeconds(10), 10_000, Ct);

        Assert.Contains(expired.Id, deleted);
        Assert.DoesNotContain(expiresLater.Id, deleted);
        Assert.Equal(0, await StoredPiecesAsync(expired.Id));
        Assert.Null(await db.SortedSetScoreAsync(RedisKeys.BlobsToDelete, BlobPrefixes.File(expired.Id)));
        Assert.Null(await db.SortedSetScoreAsync(RedisKeys.ExpiringFiles, expired.Id));
        Assert.Equal(expiresLater.ExpiresAt, (long?)await db.SortedSetScoreAsync(RedisKeys.ExpiringFiles, expiresLater.Id));
        Assert.Equal(3, await StoredPiecesAsync(expiresLater.Id));
        Assert.Equal(3, await StoredPiecesAsync(neverExpires.Id));
        var listed = (await _store.ListAsync(tenant, null, 100, false, null, Ct))!.Data.Select(f => f.Id).ToList();
        Assert.Equal([neverExpires.Id, expiresLater.Id], listed);
        Assert.DoesNotContain(expired.Id, await _store.DeleteExpiredAsync(DateTimeOffset.UtcNow.AddSeconds(10), 10_000, Ct));
    }

    [Fact]
    public async Task AFileItsOwnerDeletedLeavesTheExpiryIndexToo()
    {
        var tenant = RedisFixture.NewTenant();
        var file = await UploadAsync(TestJsonl.File(TestJsonl.Request("a")), tenant: tenant, expiresAfterSeconds: 3_600);
        var db = _redis.Db;
        Assert.NotNull(await db.SortedSetScoreAsync(RedisKeys.ExpiringFiles, file.Id));

        Assert.True(await _store.DeleteAsync(tenant, file.Id, Ct));

        Assert.Null(await db.SortedSetScoreAsync(RedisKeys.ExpiringFiles, file.Id));
    }

    private async Task<StoredFile> UploadAsync(byte[] bytes, FileUploadLimits? limits = null, string? tenant = null, string purpose = "batch",
        long? expiresAfterSeconds = null)
    {
        await using var upload = _store.BeginUpload(tenant ?? RedisFixture.NewTenant(), limits ?? Limits);
        await upload.ReadFromAsync(new TricklingStream(bytes, 7_919), Ct);
        return await upload.CommitAsync("input.jsonl", purpose, expiresAfterSeconds, Ct);
    }

    private async Task<List<string>> ReadAsync(string fileId, long first, long count)
    {
        var lines = new List<string>();
        await foreach (var line in _store.ReadLinesAsync(fileId, first, count, Ct)) lines.Add(Encoding.UTF8.GetString(line.Span));
        return lines;
    }

    private async Task<byte[]> ContentAsync(string fileId)
    {
        var content = new MemoryStream();
        await foreach (var segment in _store.ReadContentAsync(fileId, Ct)) content.Write(segment.Span);
        return content.ToArray();
    }
}
