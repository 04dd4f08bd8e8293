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
}
