namespace BatchAspire.Core.Files;

/// <summary>A committed file as the store knows it. Timestamps are unix seconds.</summary>
public sealed record StoredFile(
    string Id, string Tenant, string Filename, string Purpose, long Bytes,
    long CreatedAt, long? ExpiresAt, long Lines);

/// <summary>One page of a tenant's file list; <see cref="HasMore"/> says whether a further page exists.</summary>
public sealed record FilePage(IReadOnlyList<StoredFile> Data, bool HasMore);
