using System.Text.Json;

namespace BatchAspire.Core.Jsonl;

/// <summary>Reads one property of a request line's top-level <c>body</c> object without parsing the rest of the line.</summary>
public static class RequestBody
{
    /// <summary>
    /// Moves <paramref name="reader"/> (at the start of a line) to the value of <c>body.{name}</c>; false when the line has
    /// no body object or the body has no such property. Throws <see cref="JsonException"/> for a line that is not JSON.
    /// </summary>
    public static bool TryReadProperty(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isBody = reader.ValueTextEquals("body"u8);
            reader.Read();
            if (!isBody || reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isWanted = reader.ValueTextEquals(name);
                reader.Read();
                if (isWanted) return true;
                reader.Skip();
            }
            return false;
        }
        return false;
    }
}
