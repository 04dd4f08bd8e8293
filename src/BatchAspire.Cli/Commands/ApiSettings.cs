using System.ComponentModel;
using Spectre.Console.Cli;

namespace BatchAspire.Cli.Commands;

/// <summary>Where the API is and who calls it: options first, then OPENAI_BASE_URL and OPENAI_API_KEY, as the SDKs read them.</summary>
public class ApiSettings : CommandSettings
{
    [CommandOption("--base-url <URL>")]
    [Description("The API's base URL, ending in /v1. Default: $OPENAI_BASE_URL, else https://api.openai.com/v1.")]
    public string? BaseUrl { get; set; }

    [CommandOption("--api-key <KEY>")]
    [Description("The API key. Default: $OPENAI_API_KEY.")]
    public string? ApiKey { get; set; }

    [CommandOption("--max-retries <N>")]
    [Description("How often a read or a cancel is tried again after a connection error, 408, 429 or 5xx (never an upload or a create).")]
    [DefaultValue(2)]
    public int MaxRetries { get; set; } = 2;

    public override Spectre.Console.ValidationResult Validate() =>
        MaxRetries is < 0 or > 10
            ? Spectre.Console.ValidationResult.Error("--max-retries must be between 0 and 10.")
            : Spectre.Console.ValidationResult.Success();
}

/// <summary>Settings of a command about one batch.</summary>
public class BatchIdSettings : ApiSettings
{
    [CommandArgument(0, "<BATCH_ID>")]
    [Description("The batch's id (batch_…).")]
    public string BatchId { get; set; } = "";
}
