using System.ComponentModel.DataAnnotations;
using BatchAspire.Core.Files;
using BatchAspire.Core.Tenants;

namespace BatchAspire.Intake;

/// <summary>The <c>Intake</c> configuration section (docs/intake.md lists every key).</summary>
public sealed class IntakeOptions
{
    public const string SectionName = "Intake";

    /// <summary>The key added in Development only (tenant <see cref="DevelopmentTenant"/>), unless <see cref="DevelopmentKeyEnabled"/> is false.</summary>
    public const string DevelopmentKey = "ba-dev-key";
    public const string DevelopmentTenant = "dev";

    /// <summary>Largest accepted upload in bytes. Unlike OpenAI's 200 MB / 512 MB, BatchAspire splits big files itself.</summary>
    [Range(1, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Longest accepted request line in bytes; a longer line makes a batch on that file fail with <c>request_too_large</c>.</summary>
    [Range(1024, 256 * 1024 * 1024)]
    public int MaxLineBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Most requests (lines) in one batch; more fail the batch with <c>too_many_tasks</c>. OpenAI's limit is 50,000.</summary>
    [Range(1, FileAnalysis.MaxLinesCheckedForDuplicates)]
    public long MaxRequestsPerBatch { get; set; } = 5_000_000;

    /// <summary>A job still <c>validating</c> after this long gets <c>JobAccepted</c> published again.</summary>
    public TimeSpan RepublishAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the re-publisher looks for such jobs.</summary>
    public TimeSpan RepublishInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long an expired file's bytes stay before the sweeper deletes them. The file is hidden from its tenant at
    /// once; the bytes stay so that a batch created just before its input expired can still run (and retry) to the end
    /// of its 24 h window.
    /// </summary>
    public TimeSpan ExpiredFileRetention { get; set; } = TimeSpan.FromHours(48);

    /// <summary>How often the sweeper looks for expired files to delete.</summary>
    public TimeSpan ExpiredFileSweepInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a request waits for the broker to confirm a publish before answering anyway (the job is already durable).</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>API keys, stored as SHA-256 hashes (lowercase hex) with the tenant each belongs to.</summary>
    public List<ApiKeyEntry> ApiKeys { get; set; } = [];

    /// <summary>Per-tenant quotas: <c>Intake:Quotas:Default:*</c> and <c>Intake:Quotas:Tenants:{tenant}:*</c> (docs/intake.md).</summary>
    public QuotaOptions Quotas { get; set; } = new();

    /// <summary>Whether Development adds <see cref="DevelopmentKey"/>. Ignored outside Development, where it is never added.</summary>
    public bool DevelopmentKeyEnabled { get; set; } = true;
}

public sealed class ApiKeyEntry
{
    [Required] public string? Tenant { get; set; }

    /// <summary>SHA-256 of the key's UTF-8 bytes, hex (case-insensitive).</summary>
    [Required, RegularExpression("^[0-9a-fA-F]{64}$")] public string? Sha256 { get; set; }
}
