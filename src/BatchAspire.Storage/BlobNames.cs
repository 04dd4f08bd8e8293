namespace BatchAspire.Storage;

/// <summary>
/// The rule every blob name follows: ASCII letters, digits, '-', '_', '.' and '/' between non-empty parts,
/// at most 512 characters, no part that is '.' or '..'. Names are built by the services from ids they made, so the
/// rule is a guard, not a filter for user input: a name outside it is a bug and throws.
/// </summary>
public static class BlobNames
{
    public const int MaxLength = 512;

    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength) return false;
        foreach (var part in name.Split('/'))
        {
            if (part.Length == 0 || part is "." or "..") return false;
            foreach (var c in part)
            {
                if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.' or (>= 'A' and <= 'Z'))) return false;
            }
        }
        return true;
    }

    public static string Check(string name) =>
        IsValid(name) ? name : throw new ArgumentException($"'{name}' is not a valid blob name.", nameof(name));

    /// <summary>
    /// A list prefix is empty or the start of some valid name (so "files/" and "files/ab" are, "../" is not): a prefix
    /// outside the rule could walk a filesystem store out of its folder.
    /// </summary>
    public static bool IsValidPrefix(string? prefix) => prefix is not null && (prefix.Length == 0 || IsValid(prefix + "x"));

    public static string CheckPrefix(string prefix) =>
        IsValidPrefix(prefix) ? prefix : throw new ArgumentException($"'{prefix}' is not a valid blob name prefix.", nameof(prefix));
}
