using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BatchAspire.EndToEnd.Tests;

/// <summary>
/// Python's <c>json.dumps(obj)</c> with its defaults (separators ", " and ": ", ensure_ascii), so the
/// seed's files hold the bytes the seed itself would write.
/// </summary>
internal static class PythonJson
{
    public static string Dumps(JsonNode? node)
    {
        var text = new StringBuilder();
        Write(node, text);
        return text.ToString();
    }

    private static void Write(JsonNode? node, StringBuilder text)
    {
        switch (node)
        {
            case null:
                text.Append("null");
                break;
            case JsonObject obj:
                text.Append('{');
                var first = true;
                foreach (var (key, value) in obj)
                {
                    if (!first) text.Append(", ");
                    first = false;
                    WriteString(key, text);
                    text.Append(": ");
                    Write(value, text);
                }
                text.Append('}');
                break;
            case JsonArray array:
                text.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0) text.Append(", ");
                    Write(array[i], text);
                }
                text.Append(']');
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                WriteString(value.GetValue<string>(), text);
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.True:
                text.Append("true");
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.False:
                text.Append("false");
                break;
            default:
                text.Append(Convert.ToString(node.ToJsonString(), CultureInfo.InvariantCulture));
                break;
        }
    }

    private static void WriteString(string value, StringBuilder text)
    {
        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                default:
                    if (c < 0x20 || c > 0x7e)
                    {
                        text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        text.Append(c);
                    }
                    break;
            }
        }
        text.Append('"');
    }
}
