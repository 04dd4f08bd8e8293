using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BatchAspire.Contracts;
using BatchAspire.Reliability.Tests.Harness;
using StackExchange.Redis;

namespace BatchAspire.Reliability.Tests;

/// <summary>
/// No tenant sees another's data, through every endpoint of the running system; API keys exist only as SHA-256
/// hashes in configuration and nowhere in Redis; and neither the provider's key nor any tenant's key appears in any
/// service's console log or in any trace or log record the services export.
/// </summary>
[Collection(nameof(ReliabilityCollection))]
public sealed class SecurityTests(ReliabilityFixture fixture) : IAsyncLifetime
{
    private const string Owner = "alpha";
    private const string Intruder = "bravo";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static OwnedResources? s_owned;

    public ValueTask InitializeAsync() => new(fixture.RestoreAsync(Ct));

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Every endpoint, at <c>/v1</c> and at the SDK-without-/v1 alias, as another tenant would call it about the owner's resources.</summary>
    public static TheoryData<string> Endpoints =>
    [
        "GET files/{input}", "GET files/{output}", "GET files/{error}",
        "GET files/{input}/content", "GET files/{output}/content", "GET files/{error}/content",
        "DELETE files/{input}", "DELETE files/{output}",
        "GET files?after={input}", "GET files", "GET files?purpose=batch_output",
        "POST batches {input}", "GET batches/{batch}", "POST batches/{batch}/cancel",
        "GET batches?after={batch}", "GET batches",
    ];

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task AnotherTenantGetsExactlyWhatAnUnknownIdGetsAndChangesNothing(string endpoint)
    {
        var owned = await OwnedAsync();
        foreach (var prefix in new[] { "/v1/", "/" })
        {
            var (method, path, body) = Resolve(endpoint, prefix, owned);
            var ownerBefore = await SnapshotAsync(Owner, owned);

            using var asIntruder = await SendAsync(Intruder, method, path, body);
            var intruderText = await asIntruder.Content.ReadAsStringAsync(Ct);

            if (!Mentions(endpoint))
            {
                // A listing: it answers, but nothing of the owner's is in it.
                Assert.Equal(HttpStatusCode.OK, asIntruder.StatusCode);
                foreach (var id in owned.All) Assert.DoesNotContain(id, intruderText, StringComparison.Ordinal);
            }
            else
            {
                // The same answer as for an id that never existed, with the id swapped: no existence oracle, no 403.
                var (unknownPath, unknownBody, realId, unknownId) = WithUnknownId(path, body, owned);
                using var asUnknown = await SendAsync(Intruder, method, unknownPath, unknownBody);
                var unknownText = await asUnknown.Content.ReadAsStringAsync(Ct);
                Assert.Equal(asUnknown.StatusCode, asIntruder.StatusCode);
                Assert.Equal(HttpStatusCode.NotFound, asIntruder.StatusCode);
                Assert.Equal(unknownText.Replace(unknownId, realId, StringComparison.Ordinal), intruderText);
            }

            Assert.Equal(ownerBefore, await SnapshotAsync(Owner, owned));
        }
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task EveryEndpointRefusesAMissingOrWrongKeyWithoutEchoingIt(string endpoint)
    {
        var owned = await OwnedAsync();
        var (method, path, body) = Resolve(endpoint, "/v1/", owned);
        var nearMiss = fixture.KeyOf(Owner) + "x";
        foreach (var key in new[] { null, "", nearMiss, ReliabilityFixture.Sha256(fixture.KeyOf(Owner)) })
        {
            using var response = await SendRawKeyAsync(key, method, path, body);
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
            Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.DoesNotContain(fixture.KeyOf(Owner)[7..], text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ApiKeysExistOnlyAsHashesInConfigurationAndNowhereInRedis()
    {
        await OwnedAsync();
        var secrets = Secrets();

        // Configuration as the intake process sees it: hashes, never a key.
        var intake = fixture.Control.StateOf(fixture.Control.InstancesOf(ResourceNames.Intake).Single())!;
        var environment = ProcessTree.Environment(fixture.Control.ServiceProcessOf(intake)!.Value);
        foreach (var (tenant, key) in fixture.TenantKeys)
        {
            Assert.DoesNotContain(key, environment, StringComparison.Ordinal);
            Assert.Contains(ReliabilityFixture.Sha256(key), environment, StringComparison.OrdinalIgnoreCase);
        }

        // Every value of every key in Redis, whatever its type.
        var db = fixture.Redis.GetDatabase();
        var searched = 0;
        await foreach (var key in fixture.Redis.GetServers()[0].KeysAsync(pattern: "*", pageSize: 1000))
        {
            var values = await ValuesAsync(db, key);
            foreach (var value in values.Append(Encoding.UTF8.GetBytes(key!)))
            {
                foreach (var (name, secret) in secrets)
                    Assert.False(value.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) >= 0, $"{name} found in Redis key {key}");
            }
            searched++;
        }
        Assert.True(searched > 10, $"only {searched} Redis keys searched");
    }

    [Fact]
    public async Task NoKeyAppearsInAnyServiceLogOrExportedTraceOrLog()
    {
        var owned = await OwnedAsync();
        // Traffic that could tempt a log line: every tenant uploads and lists, wrong keys knock, a batch fails validation.
        foreach (var tenant in ReliabilityFixture.TenantNames)
        {
            using var _ = await SendAsync(tenant, HttpMethod.Get, "/v1/files", null);
        }
        using (await SendRawKeyAsync(fixture.KeyOf(Owner) + "x", HttpMethod.Get, "/v1/batches", null)) { }
        using (await SendRawKeyAsync(fixture.ProviderKey, HttpMethod.Get, "/v1/batches", null)) { }
        var sdk = fixture.Sdk("leak");
        var invalid = await sdk.UploadAsync(new MemoryStream("{\"custom_id\": 1}\n"u8.ToArray()), "leak.jsonl", Ct);
        await sdk.CreateBatchAsync(invalid, Ct);
        var job = await Jobs.SubmitAsync(fixture, "leak", 50, "leak", Ct);
        await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(2), Ct);
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);   // the exporters batch for 0.5 s

        var console = fixture.Control.ConsoleLogs.ToList();
        Assert.True(console.Count > 100, $"only {console.Count} console lines captured");
        Assert.True(fixture.Telemetry.Exports.Count > 10, $"only {fixture.Telemetry.Exports.Count} OTLP exports received");
        Assert.Contains(console, l => l.Line.Contains(owned.Batch, StringComparison.Ordinal));   // ids do get logged: the search is real
        foreach (var (name, secret) in Secrets())
        {
            var inConsole = console.Where(l => l.Line.Contains(secret, StringComparison.Ordinal)).Select(l => l.Resource).Distinct().ToList();
            Assert.True(inConsole.Count == 0, $"{name} printed by {string.Join(", ", inConsole)}");
            Assert.False(fixture.Telemetry.AnyExportContains(secret), $"{name} in an OTLP export");
        }
    }

    /// <summary>The provider key and every tenant key, whole and as the prefix an error message might echo.</summary>
    private List<(string Name, string Secret)> Secrets()
    {
        var secrets = new List<(string, string)> { ("provider key", fixture.ProviderKey), ("provider key prefix", fixture.ProviderKey[..20]) };
        foreach (var (tenant, key) in fixture.TenantKeys)
        {
            secrets.Add(($"{tenant}'s key", key));
            secrets.Add(($"{tenant}'s key prefix", key[..20]));
        }
        return secrets;
    }

    private static async Task<IEnumerable<byte[]>> ValuesAsync(IDatabase db, RedisKey key) => await db.KeyTypeAsync(key) switch
    {
        RedisType.String => [(byte[]?)await db.StringGetAsync(key) ?? []],
        RedisType.Hash => (await db.HashGetAllAsync(key)).SelectMany(e => new[] { (byte[])e.Name!, (byte[]?)e.Value ?? [] }),
        RedisType.List => (await db.ListRangeAsync(key)).Select(v => (byte[]?)v ?? []),
        RedisType.Set => (await db.SetMembersAsync(key)).Select(v => (byte[]?)v ?? []),
        RedisType.SortedSet => (await db.SortedSetRangeByRankAsync(key)).Select(v => (byte[]?)v ?? []),
        _ => [],
    };

    /// <summary>The owner's resources: an input file, a finished batch with an output file and an error file.</summary>
    private async Task<OwnedResources> OwnedAsync()
    {
        if (s_owned is { } owned) return owned;
        var lines = new StringBuilder();
        for (var i = 0; i < 6; i++)
        {
            // Every third request asks for more tokens than a model allows: a 400 line, so the job has an error file.
            var maxTokens = i % 3 == 2 ? 200_000 : 16;
            lines.Append("{\"custom_id\":\"own-").Append(i).Append("\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-5-nano\",\"max_tokens\":")
                .Append(maxTokens).Append(",\"messages\":[{\"role\":\"user\",\"content\":\"secret of alpha ").Append(i).Append("\"}]}}\n");
        }
        var sdk = fixture.Sdk(Owner);
        var input = await sdk.UploadAsync(new MemoryStream(Encoding.UTF8.GetBytes(lines.ToString())), "owned.jsonl", Ct);
        var job = new SubmittedJob(await sdk.CreateBatchAsync(input, Ct), Owner, [.. Enumerable.Range(0, 6).Select(i => $"own-{i}")]);
        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(2), Ct);
        await JobInvariant.CheckAsync(fixture, job, end, "security fixtures", Ct);
        var output = end.GetProperty("output_file_id").GetString()!;
        var error = end.GetProperty("error_file_id").GetString()!;
        return s_owned = new OwnedResources(input, job.BatchId, output, error);
    }

    private sealed record OwnedResources(string Input, string Batch, string Output, string Error)
    {
        public IEnumerable<string> All => [Input, Batch, Output, Error];
    }

    private static bool Mentions(string endpoint) => endpoint.Contains('{', StringComparison.Ordinal);

    private static (HttpMethod Method, string Path, string? Body) Resolve(string endpoint, string prefix, OwnedResources owned)
    {
        var space = endpoint.IndexOf(' ');
        var method = new HttpMethod(endpoint[..space]);
        var rest = endpoint[(space + 1)..]
            .Replace("{input}", owned.Input, StringComparison.Ordinal).Replace("{output}", owned.Output, StringComparison.Ordinal)
            .Replace("{error}", owned.Error, StringComparison.Ordinal).Replace("{batch}", owned.Batch, StringComparison.Ordinal);
        if (rest.StartsWith("batches ", StringComparison.Ordinal))
        {
            // POST batches {file}: a create naming the owner's file as input.
            var file = rest["batches ".Length..];
            return (method, prefix + "batches", $$"""{"input_file_id":"{{file}}","endpoint":"/v1/chat/completions","completion_window":"24h"}""");
        }
        return (method, prefix + rest, method == HttpMethod.Post ? "" : null);
    }

    /// <summary>The same request about an id of the same shape that never existed.</summary>
    private static (string Path, string? Body, string RealId, string UnknownId) WithUnknownId(string path, string? body, OwnedResources owned)
    {
        var real = owned.All.First(id => path.Contains(id, StringComparison.Ordinal) || (body?.Contains(id, StringComparison.Ordinal) ?? false));
        var prefix = real.StartsWith("file-", StringComparison.Ordinal) ? "file-" : "batch_";
        var unknown = prefix + new string('Z', real.Length - prefix.Length);
        return (path.Replace(real, unknown, StringComparison.Ordinal), body?.Replace(real, unknown, StringComparison.Ordinal), real, unknown);
    }

    /// <summary>What the owner sees of its resources: the objects, the bytes, the listings.</summary>
    private async Task<string> SnapshotAsync(string tenant, OwnedResources owned)
    {
        var snapshot = new StringBuilder();
        foreach (var path in new[] { $"/v1/files/{owned.Input}", $"/v1/files/{owned.Output}", $"/v1/files/{owned.Error}", $"/v1/batches/{owned.Batch}",
                     $"/v1/files/{owned.Input}/content", $"/v1/files/{owned.Output}/content" })
        {
            using var response = await SendAsync(tenant, HttpMethod.Get, path, null);
            snapshot.Append((int)response.StatusCode).Append(' ').AppendLine(await response.Content.ReadAsStringAsync(Ct));
        }
        return snapshot.ToString();
    }

    private Task<HttpResponseMessage> SendAsync(string tenant, HttpMethod method, string path, string? body) =>
        SendRawKeyAsync(fixture.KeyOf(tenant), method, path, body);

    private async Task<HttpResponseMessage> SendRawKeyAsync(string? key, HttpMethod method, string path, string? body)
    {
        using var http = fixture.CreateIntakeClient();
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        if (key is not null) request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {key}");
        return await http.SendAsync(request, Ct);
    }
}
