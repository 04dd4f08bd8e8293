using System.Text.Encodings.Web;
using System.Text.Json;

namespace BatchAspire.Sandbox.Http;

public static class WireJson
{
    /// <summary>Plain UTF-8 like the real API (the default encoder would turn every apostrophe into \u0027).</summary>
    public static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>For hot paths whose output is built by code that is known to be well formed.</summary>
    public static readonly JsonWriterOptions Unchecked = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };
}
