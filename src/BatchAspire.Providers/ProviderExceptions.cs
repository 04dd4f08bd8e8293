using BatchAspire.Core.Faults;

namespace BatchAspire.Providers;

/// <summary>
/// A provider call answered with an error status. Carries the status and the error envelope's
/// <c>type</c>/<c>code</c> only: the provider's message may echo part of the API key
/// ("Incorrect API key provided: sk-…"), so it never reaches a log or trace through this exception. Whether it is
/// worth asking again is <see cref="FaultRule"/>'s to say, from the status (0 when the provider did not answer).
/// </summary>
public sealed class ProviderCallException(string operation, int status, string? errorType, string? errorCode, Exception? inner = null)
    : Exception($"Provider call '{operation}' failed with HTTP {status}" +
                (errorType is null && errorCode is null ? "." : $" ({errorType ?? "-"}/{errorCode ?? "-"})."), inner), IProviderFault
{
    public string Operation { get; } = operation;
    public int Status { get; } = status;
    public string? ErrorType { get; } = errorType;
    public string? ErrorCode { get; } = errorCode;
}

/// <summary>The provider answered 2xx with a body that is not what the OpenAI API defines.</summary>
public sealed class ProviderProtocolException(string message) : Exception(message);
