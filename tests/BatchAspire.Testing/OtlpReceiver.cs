using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace BatchAspire.Testing;

/// <summary>One span as the services exported it over OTLP/HTTP (protobuf).</summary>
public sealed record ReceivedSpan(string Service, string TraceId, string SpanId, string ParentSpanId, string Name, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// An OTLP/HTTP receiver on a free loopback port: services started with
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> pointing here export their traces and logs to the test.
/// Keeps the spans it decodes and the raw bytes of every export (to search them for secrets).
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private readonly ConcurrentQueue<byte[]> _exports = new();

    private OtlpReceiver(WebApplication app, int port)
    {
        _app = app;
        Endpoint = $"http://127.0.0.1:{port}";
    }

    public string Endpoint { get; }

    public IReadOnlyCollection<ReceivedSpan> Spans => _spans;

    /// <summary>Every export body received (traces, logs, metrics), as sent.</summary>
    public IReadOnlyCollection<byte[]> Exports => _exports;

    public static async Task<OtlpReceiver> StartAsync()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app, port);
        app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            var bytes = body.ToArray();
            receiver._exports.Enqueue(bytes);
            if (signal == "traces")
            {
                foreach (var span in OtlpTraceDecoder.Decode(bytes))
                {
                    receiver._spans.Enqueue(span);
                }
            }
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        return receiver;
    }

    public bool AnyExportContains(string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        return _exports.Any(export => export.AsSpan().IndexOf(needle) >= 0);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

/// <summary>
/// Just enough of the protobuf wire format to read ExportTraceServiceRequest: resource_spans(1) →
/// resource(1).attributes(1) and scope_spans(2) → spans(2) with trace_id(1), span_id(2),
/// parent_span_id(4), name(5), attributes(9).
/// </summary>
internal static class OtlpTraceDecoder
{
    public static IEnumerable<ReceivedSpan> Decode(byte[] request)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var (field, resourceSpans) in Fields(request))
        {
            if (field != 1) continue;
            var service = "";
            foreach (var (f, value) in Fields(resourceSpans))
            {
                if (f == 1)
                {
                    service = Attributes(value).GetValueOrDefault("service.name", "");
                }
            }
            foreach (var (f, scopeSpans) in Fields(resourceSpans))
            {
                if (f != 2) continue;
                foreach (var (g, span) in Fields(scopeSpans))
                {
                    if (g == 2) spans.Add(ReadSpan(service, span));
                }
            }
        }
        return spans;
    }

    private static ReceivedSpan ReadSpan(string service, ReadOnlyMemory<byte> span)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var attributes = new Dictionary<string, string>();
        foreach (var (field, value) in Fields(span))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexStringLower(value.Span); break;
                case 2: spanId = Convert.ToHexStringLower(value.Span); break;
                case 4: parent = Convert.ToHexStringLower(value.Span); break;
                case 5: name = Encoding.UTF8.GetString(value.Span); break;
                case 9: foreach (var (k, v) in Attributes(value, single: true)) attributes[k] = v; break;
            }
        }
        return new ReceivedSpan(service, traceId, spanId, parent, name, attributes);
    }

    /// <summary>KeyValue list (key = 1, value = 2 → AnyValue.string_value = 1); <paramref name="single"/> when given one KeyValue.</summary>
    private static Dictionary<string, string> Attributes(ReadOnlyMemory<byte> message, bool single = false)
    {
        var result = new Dictionary<string, string>();
        IEnumerable<ReadOnlyMemory<byte>> keyValues = single
            ? [message]
            : Fields(message).Where(f => f.Field == 1).Select(f => f.Value);
        foreach (var keyValue in keyValues)
        {
            string key = "", value = "";
            foreach (var (field, bytes) in Fields(keyValue))
            {
                if (field == 1) key = Encoding.UTF8.GetString(bytes.Span);
                if (field == 2)
                {
                    foreach (var (f, s) in Fields(bytes))
                    {
                        if (f == 1) value = Encoding.UTF8.GetString(s.Span);
                    }
                }
            }
            result[key] = value;
        }
        return result;
    }

    /// <summary>The length-delimited fields of a message (other wire types are skipped).</summary>
    private static List<(int Field, ReadOnlyMemory<byte> Value)> Fields(ReadOnlyMemory<byte> message)
    {
        var fields = new List<(int, ReadOnlyMemory<byte>)>();
        var span = message.Span;
        var position = 0;
        while (position < span.Length)
        {
            var tag = ReadVarint(span, ref position);
            var field = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0: ReadVarint(span, ref position); break;
                case 1: position += 8; break;
                case 5: position += 4; break;
                case 2:
                    var length = (int)ReadVarint(span, ref position);
                    fields.Add((field, message.Slice(position, length)));
                    position += length;
                    break;
                default: return fields;
            }
        }
        return fields;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; position < span.Length; shift += 7)
        {
            var b = span[position++];
            result |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) break;
        }
        return result;
    }
}
