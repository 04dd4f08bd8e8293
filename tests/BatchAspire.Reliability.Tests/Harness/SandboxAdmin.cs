using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace BatchAspire.Reliability.Tests.Harness;

/// <summary>The Sandbox's admin endpoints (fault knobs, stats) and its batch list, called with the provider key the workers use.</summary>
public sealed class SandboxAdmin(HttpClient http, string providerKey)
{
    /// <summary>Replaces every fault knob (snake_case fields of docs/sandbox.md; missing fields are off).</summary>
    public async Task SetFaultsAsync(object knobs, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Put, "/sandbox/faults");
        request.Content = JsonContent.Create(knobs);
        using var response = await http.SendAsync(request, ct);
        Assert.True(response.IsSuccessStatusCode, $"PUT /sandbox/faults: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
    }

    public async Task ClearFaultsAsync(CancellationToken ct)
    {
        using var response = await http.SendAsync(Request(HttpMethod.Delete, "/sandbox/faults"), ct);
        response.EnsureSuccessStatusCode();
    }

    public async Task<JsonElement> StatsAsync(CancellationToken ct)
    {
        using var response = await http.SendAsync(Request(HttpMethod.Get, "/sandbox/stats"), ct);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement.Clone();
    }

    /// <summary>Every batch the workers created at the Sandbox, newest first (all pages).</summary>
    public async Task<IReadOnlyList<JsonElement>> ListBatchesAsync(CancellationToken ct)
    {
        var all = new List<JsonElement>();
        string? after = null;
        for (var page = 0; page < 1000; page++)
        {
            using var response = await http.SendAsync(Request(HttpMethod.Get, after is null ? "/v1/batches?limit=100" : $"/v1/batches?limit=100&after={after}"), ct);
            response.EnsureSuccessStatusCode();
            var list = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement.Clone();
            var data = list.GetProperty("data").EnumerateArray().ToList();
            all.AddRange(data);
            if (!list.GetProperty("has_more").GetBoolean() || data.Count == 0) return all;
            after = data[^1].GetProperty("id").GetString();
        }
        throw new InvalidOperationException("the Sandbox's batch list did not end");
    }

    /// <summary>The Sandbox batches whose metadata names <paramref name="jobId"/>.</summary>
    public async Task<IReadOnlyList<JsonElement>> BatchesOfJobAsync(string jobId, CancellationToken ct) =>
        [.. (await ListBatchesAsync(ct)).Where(b => Metadata(b, "batchaspire_job") == jobId)];

    public static string? Metadata(JsonElement batch, string key) =>
        batch.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
        && metadata.TryGetProperty(key, out var value) ? value.GetString() : null;

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", providerKey);
        return request;
    }
}
