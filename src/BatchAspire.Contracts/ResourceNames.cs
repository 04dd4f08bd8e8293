namespace BatchAspire.Contracts;

/// <summary>Names shared by the AppHost and the services: resources and their connection strings.</summary>
public static class ResourceNames
{
    public const string Cache = "cache";
    public const string Messaging = "messaging";
    public const string Intake = "intake";
    public const string Submitter = "submitter";
    public const string Poller = "poller";
    public const string Results = "results";
    public const string Sandbox = "sandbox";

    /// <summary>The Azure Blob Storage (Azurite) connection string, when <c>Blobs:Provider</c> is <c>azure</c>.</summary>
    public const string Blobs = "blobs";
}
