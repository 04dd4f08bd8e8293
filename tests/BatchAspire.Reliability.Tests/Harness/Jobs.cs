using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BatchAspire.EndToEnd.Tests;

namespace BatchAspire.Reliability.Tests.Harness;

/// <summary>A job a scenario runs: its id, its tenant and the custom_ids it was given.</summary>
public sealed record SubmittedJob(string BatchId, string Tenant, IReadOnlyList<string> CustomIds);

/// <summary>Builds request files and drives jobs through the intake as a user would (the official .NET SDK).</summary>
public static class Jobs
{
    /// <summary>
    /// A JSONL file of <paramref name="count"/> chat requests with ids <c>{prefix}-{i}</c>; each user message is about
    /// <paramref name="messageBytes"/> long (the Sandbox echoes it, so result lines grow with it).
    /// </summary>
    public static (MemoryStream File, IReadOnlyList<string> Ids) Requests(int count, string prefix, int messageBytes = 40)
    {
        var text = new StringBuilder(count * (messageBytes + 200));
        var ids = new List<string>(count);
        var filler = new string('x', Math.Max(0, messageBytes - 20));
        for (var i = 0; i < count; i++)
        {
            var id = $"{prefix}-{i}";
            ids.Add(id);
            text.Append("{\"custom_id\":\"").Append(id)
                .Append("\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-5-nano\",\"messages\":[")
                .Append("{\"role\":\"user\",\"content\":\"echo ").Append(i).Append(' ').Append(filler).Append("\"}]}}\n");
        }
        return (new MemoryStream(Encoding.UTF8.GetBytes(text.ToString())), ids);
    }

    /// <summary>Uploads a request file for <paramref name="tenant"/> and creates a chat-completions batch on it.</summary>
    public static async Task<SubmittedJob> SubmitAsync(ReliabilityFixture fixture, string tenant, int count, string prefix, CancellationToken ct, int messageBytes = 40)
    {
        var (file, ids) = Requests(count, prefix, messageBytes);
        var sdk = fixture.Sdk(tenant);
        var fileId = await sdk.UploadAsync(file, $"{prefix}.jsonl", ct);
        var batchId = await sdk.CreateBatchAsync(fileId, ct);
        return new SubmittedJob(batchId, tenant, ids);
    }

    /// <summary>Polls the batch (bounded) until it is terminal; transport errors while a service restarts are waited out.</summary>
    public static async Task<JsonElement> WaitForEndAsync(ReliabilityFixture fixture, SubmittedJob job, TimeSpan bound, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + bound;
        var sdk = fixture.Sdk(job.Tenant);
        string? status = null;
        while (true)
        {
            try
            {
                var batch = await sdk.GetBatchAsync(job.BatchId, ct);
                status = batch.GetProperty("status").GetString();
                if (status is "completed" or "failed" or "expired" or "cancelled") return batch;
            }
            catch (Exception e) when (e is HttpRequestException or System.ClientModel.ClientResultException && !ct.IsCancellationRequested)
            {
                // The intake may be the service a scenario just killed.
            }
            Assert.True(DateTime.UtcNow < deadline, $"batch {job.BatchId} still {status ?? "unknown"} after {bound}");
            await Task.Delay(500, ct);
        }
    }

    /// <summary>Reads the job's status from Redis directly (cheap enough to poll in a tight loop).</summary>
    public static async Task<string?> StatusInRedisAsync(ReliabilityFixture fixture, string batchId) =>
        await fixture.Redis.GetDatabase().HashGetAsync($"ba:{{{batchId}}}:job", "status");

    /// <summary>A file's raw bytes through the intake, or null when the id is JSON null.</summary>
    public static async Task<byte[]?> DownloadAsync(ReliabilityFixture fixture, string tenant, JsonElement fileId, CancellationToken ct)
    {
        if (fileId.ValueKind != JsonValueKind.String) return null;
        using var http = fixture.CreateIntakeClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/files/{fileId.GetString()}/content");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.KeyOf(tenant));
        using var response = await http.SendAsync(request, ct);
        Assert.True(response.IsSuccessStatusCode, $"download of {fileId} answered {(int)response.StatusCode}");
        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds, polling every <paramref name="every"/>.</summary>
    /// <summary>The tenant's file ids, as the Files API lists them.</summary>
    public static async Task<IReadOnlyList<string>> FileIdsAsync(ReliabilityFixture fixture, string tenant, CancellationToken ct)
    {
        using var http = fixture.CreateIntakeClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/files");
        request.Headers.Authorization = new("Bearer", fixture.KeyOf(tenant));
        using var response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        var list = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement;
        return [.. list.GetProperty("data").EnumerateArray().Select(f => f.GetProperty("id").GetString()!).Order(StringComparer.Ordinal)];
    }

    public static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan bound, TimeSpan every, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + bound;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return true;
            await Task.Delay(every, ct);
        }
        return await condition();
    }
}
