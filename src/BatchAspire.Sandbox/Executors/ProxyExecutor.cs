using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace BatchAspire.Sandbox.Executors;

/// <summary>
/// Forwards each line to an OpenAI-compatible upstream (llama.cpp, vLLM, Ollama…) with bounded
/// concurrency across all batches, retrying 408/429/5xx and connection failures. A line whose call
/// fails for good keeps the upstream's status and body, so it lands in the error file as the real
/// API would report it.
/// </summary>
public sealed class ProxyExecutor : IRequestExecutor, IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly ProxyOptions _options;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _inFlight;
    private readonly string _baseUrl;
    private readonly bool _baseHasV1;

    public ProxyExecutor(IOptions<SandboxOptions> options)
    {
        _options = options.Value.Proxy;
        if (string.IsNullOrWhiteSpace(_options.BaseUrl)) throw new InvalidOperationException("Sandbox:Proxy:BaseUrl is required when Sandbox:Executor is 'proxy'.");
        _baseUrl = _options.BaseUrl.TrimEnd('/');
        _baseHasV1 = _baseUrl.EndsWith("/v1", StringComparison.Ordinal);
        _inFlight = new SemaphoreSlim(Math.Max(1, _options.MaxConcurrency));
        // A plain client: the ServiceDefaults resilience handler would add a second retry layer and a 30 s timeout.
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(1, _options.MaxConcurrency),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        })
        {
            Timeout = TimeSpan.FromSeconds(Math.Max(1, _options.TimeoutSeconds)),
        };
        if (!string.IsNullOrEmpty(_options.ApiKey)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _options.ApiKey);
    }

    public int MaxParallelism => Math.Max(1, _options.MaxConcurrency);

    public async ValueTask<ExecutionResult> ExecuteAsync(string endpoint, JsonElement body, ExecutionScratch scratch, CancellationToken ct)
    {
        var url = _baseUrl + (_baseHasV1 && endpoint.StartsWith("/v1/", StringComparison.Ordinal) ? endpoint[3..] : endpoint);
        var payload = _options.Model is { Length: > 0 } model ? WithModel(body, model) : JsonMarshal.GetRawUtf8Value(body).ToArray();
        var attempts = Math.Max(1, _options.MaxAttempts);
        for (var attempt = 1; ; attempt++)
        {
            int status;
            byte[] responseBody;
            TimeSpan? retryAfter = null;
            await _inFlight.WaitAsync(ct);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(payload) };
                request.Content.Headers.ContentType = Json;
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
                status = (int)response.StatusCode;
                responseBody = await response.Content.ReadAsByteArrayAsync(ct);
                retryAfter = RetryAfter(response);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                status = (int)HttpStatusCode.BadGateway;
                responseBody = ErrorBody($"The upstream model server could not be reached: {e.Message}", "server_error");
            }
            finally
            {
                _inFlight.Release();
            }

            if (status is >= 200 and < 300 || !IsTransient(status) || attempt >= attempts)
            {
                return Result(status, responseBody);
            }
            var backoff = TimeSpan.FromMilliseconds(Math.Min(8000, _options.RetryBaseDelayMs * (1 << (attempt - 1))));
            await Task.Delay(retryAfter is { } wait && wait < TimeSpan.FromSeconds(60) ? wait : backoff, ct);
        }
    }

    private static bool IsTransient(int status) => status is 408 or 409 or 429 or >= 500;

    private static ExecutionResult Result(int status, byte[] body)
    {
        if (!IsJsonObject(body))
        {
            // Keep the failure readable for clients that expect the error envelope inside response.body.
            body = ErrorBody(Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 2000))), status >= 500 ? "server_error" : "invalid_request_error");
            if (status is >= 200 and < 300) status = (int)HttpStatusCode.BadGateway;
        }
        else if (body.AsSpan().IndexOfAny((byte)'\n', (byte)'\r') >= 0)
        {
            body = Minify(body);   // a result file holds one JSON object per line
        }
        return new ExecutionResult(status, body, status is >= 200 and < 300 ? ReadUsage(body) : default);
    }

    private static bool IsJsonObject(byte[] body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            reader.Skip();
            while (reader.Read()) { }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static byte[] Minify(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        using var stream = new MemoryStream(body.Length);
        using (var writer = new Utf8JsonWriter(stream, Http.WireJson.Options))
        {
            document.RootElement.WriteTo(writer);
        }
        return stream.ToArray();
    }

    private static TokenUsage ReadUsage(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        if (!document.RootElement.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object) return default;
        long Get(JsonElement element, string name) => element.TryGetProperty(name, out var value) && value.TryGetInt64(out var n) ? n : 0;
        var prompt = Get(usage, "prompt_tokens") + Get(usage, "input_tokens");
        var completion = Get(usage, "completion_tokens") + Get(usage, "output_tokens");
        long cached = 0, reasoning = 0;
        if (usage.TryGetProperty("prompt_tokens_details", out var pd) && pd.ValueKind == JsonValueKind.Object) cached = Get(pd, "cached_tokens");
        if (usage.TryGetProperty("completion_tokens_details", out var cd) && cd.ValueKind == JsonValueKind.Object) reasoning = Get(cd, "reasoning_tokens");
        return new TokenUsage(prompt, completion, cached, reasoning);
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var ms) &&
            double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var millis) && millis >= 0)
        {
            return TimeSpan.FromMilliseconds(millis);
        }
        return response.Headers.RetryAfter?.Delta;
    }

    private static byte[] WithModel(JsonElement body, string model)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Http.WireJson.Options))
        {
            writer.WriteStartObject();
            foreach (var property in body.EnumerateObject())
            {
                if (property.NameEquals("model"u8)) continue;
                property.WriteTo(writer);
            }
            writer.WriteString("model", model);
            writer.WriteEndObject();
        }
        return stream.ToArray();
    }

    private static byte[] ErrorBody(string message, string type)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Http.WireJson.Options))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", message);
            writer.WriteString("type", type);
            writer.WriteNull("param");
            writer.WriteNull("code");
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return stream.ToArray();
    }

    public void Dispose()
    {
        _http.Dispose();
        _inFlight.Dispose();
    }
}
