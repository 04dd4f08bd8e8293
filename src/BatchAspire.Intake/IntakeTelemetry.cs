using System.Diagnostics;

namespace BatchAspire.Intake;

internal static class IntakeTelemetry
{
    public const string Name = "BatchAspire.Intake";   // matched by AddSource("BatchAspire.*")
    public static readonly ActivitySource Source = new(Name);
}
