using System.Text.Json.Serialization;

namespace BatchAspire.Sandbox.Storage;

/// <summary>Source-generated serializers for the records kept on disk (not the wire format).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(FileRecord))]
[JsonSerializable(typeof(BatchState))]
internal sealed partial class StoreJson : JsonSerializerContext;
