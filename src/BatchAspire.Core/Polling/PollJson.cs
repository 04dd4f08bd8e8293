using System.Text.Json.Serialization;
using BatchAspire.Core.Providers;

namespace BatchAspire.Core.Polling;

/// <summary>Source-generated JSON for what the schedule stores: the provider's batch errors, in the API's field names.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(IReadOnlyList<ProviderBatchError>))]
internal sealed partial class PollJson : JsonSerializerContext;
