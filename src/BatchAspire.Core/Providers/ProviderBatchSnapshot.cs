using BatchAspire.Core.Jobs;

namespace BatchAspire.Core.Providers;

/// <summary>
/// What the provider said about one of its batches. Data only, and in Core because the poll schedule stores it;
/// the client that asks the provider (and reads this from its JSON) lives in BatchAspire.Providers.
/// </summary>
public sealed record ProviderBatchSnapshot
{
    public required string Id { get; init; }
    public required string Status { get; init; }
    public ProviderRequestCounts RequestCounts { get; init; } = new(0, 0, 0);
    public ProviderUsage? Usage { get; init; }
    public string? OutputFileId { get; init; }
    public string? ErrorFileId { get; init; }
    public IReadOnlyList<ProviderBatchError> Errors { get; init; } = [];
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>completed, failed, expired or cancelled: the provider will not change this batch again.</summary>
    public bool IsTerminal => JobStatus.IsTerminal(Status);
}

public sealed record ProviderRequestCounts(long Total, long Completed, long Failed);

public sealed record ProviderUsage(long InputTokens, long CachedTokens, long OutputTokens, long ReasoningTokens, long TotalTokens);

public sealed record ProviderBatchError(string? Code, string? Message, string? Param, long? Line);
