namespace Proxy.Config;

/// <summary>
/// Expands <c>${NAME}</c> (an environment variable) and <c>${file:PATH}</c> (a mounted secret file,
/// relative to the config file) inside config values, so credentials never have to sit in the file.
/// </summary>
/// <remarks>With a control plane, <c>${sealed:v1:...}</c> is a credential it stored encrypted, opened by <paramref name="unseal"/>.</remarks>
public sealed class SecretResolver(string configDirectory, Func<string, string?> getEnvironment, IConfigData? unseal = null)
{
    public static SecretResolver ForFile(string configPath, IConfigData? unseal = null) =>
        new(Path.GetDirectoryName(Path.GetFullPath(configPath)) ?? ".", Environment.GetEnvironmentVariable, unseal);

    /// <summary>Returns the expanded value, or null with <paramref name="error"/> saying what could not be resolved.</summary>
    public string? Expand(string value, out string? error)
    {
        error = null;
        int start = value.IndexOf("${", StringComparison.Ordinal);
        if (start < 0) return value;

        var result = new System.Text.StringBuilder(value.Length);
        int pos = 0;
        while (start >= 0)
        {
            int end = value.IndexOf('}', start + 2);
            if (end < 0)
            {
                error = "unterminated '${' (expected '${NAME}' or '${file:PATH}')";
                return null;
            }
            result.Append(value, pos, start - pos);
            var reference = value.AsSpan(start + 2, end - start - 2).Trim();
            string? resolved = reference.StartsWith("file:") ? ReadFile(reference[5..].Trim().ToString(), out error)
                : reference.StartsWith("sealed:") ? Unseal(reference[7..].ToString(), out error)
                : Lookup(reference.ToString(), out error);
            if (resolved is null) return null;
            result.Append(resolved);
            pos = end + 1;
            start = value.IndexOf("${", pos, StringComparison.Ordinal);
        }
        result.Append(value, pos, value.Length - pos);
        return result.ToString();
    }

    private string? Unseal(string sealedValue, out string? error)
    {
        if (unseal is null)
        {
            error = "a sealed credential (${sealed:...}) is only readable with a control plane and its master key";
            return null;
        }
        return unseal.Unseal(sealedValue, out error);
    }

    private string? Lookup(string name, out string? error)
    {
        error = null;
        if (name.Length == 0)
        {
            error = "empty '${}' reference";
            return null;
        }
        var v = getEnvironment(name);
        if (string.IsNullOrEmpty(v)) error = $"environment variable '{name}' is not set";
        return string.IsNullOrEmpty(v) ? null : v;
    }

    private string? ReadFile(string path, out string? error)
    {
        error = null;
        var full = Path.IsPathRooted(path) ? path : Path.Combine(configDirectory, path);
        try
        {
            // Secret files from Kubernetes or editors end with a newline that is not part of the secret.
            return File.ReadAllText(full).TrimEnd('\r', '\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"cannot read secret file '{full}': {e.Message}";
            return null;
        }
    }
}
