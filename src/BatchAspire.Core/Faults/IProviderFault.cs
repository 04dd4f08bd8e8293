namespace BatchAspire.Core.Faults;

/// <summary>
/// A failed call to the provider, as the fault rule needs to see it: the HTTP status the provider answered with
/// (0 when it did not answer at all). The provider client's exception implements it, so the rule can judge it
/// without Core depending on the client.
/// </summary>
public interface IProviderFault
{
    int Status { get; }
}
