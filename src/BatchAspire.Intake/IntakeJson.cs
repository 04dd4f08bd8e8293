using System.Text.Json.Serialization;
using BatchAspire.Intake.Batches;
using BatchAspire.Intake.Errors;
using BatchAspire.Intake.Files;

namespace BatchAspire.Intake;

/// <summary>Every wire type of the intake: snake_case, nulls written (the SDKs expect every key), source-generated.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(OpenAIErrorResponse))]
[JsonSerializable(typeof(FileObject))]
[JsonSerializable(typeof(FileDeleted))]
[JsonSerializable(typeof(ListResponse<FileObject>))]
[JsonSerializable(typeof(BatchObject))]
[JsonSerializable(typeof(ListResponse<BatchObject>))]
[JsonSerializable(typeof(CreateBatchRequest))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class IntakeJson : JsonSerializerContext;

/// <summary>OpenAI's list envelope: <c>first_id</c>/<c>last_id</c> name the first and last item (null on an empty page).</summary>
public sealed class ListResponse<T>
{
    public string Object => "list";
    public required IReadOnlyList<T> Data { get; init; }
    public required string? FirstId { get; init; }
    public required string? LastId { get; init; }
    public required bool HasMore { get; init; }
}

public static class ListResponse
{
    /// <summary>.NET pages with <c>last_id</c>, Python and Node with the last item's id: both must agree.</summary>
    public static ListResponse<T> Create<T>(IReadOnlyList<T> data, bool hasMore, Func<T, string> id) => new()
    {
        Data = data,
        FirstId = data.Count > 0 ? id(data[0]) : null,
        LastId = data.Count > 0 ? id(data[^1]) : null,
        HasMore = hasMore,
    };
}
