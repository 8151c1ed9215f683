namespace Proxy.Logging;

/// <summary>Maps an object name (always '/'-separated) to a file under a root, refusing escapes from the root.</summary>
internal static class ObjectPath
{
    public static string Resolve(string root, string objectName)
    {
        ArgumentException.ThrowIfNullOrEmpty(objectName);
        var full = Path.GetFullPath(Path.Combine(root, objectName.Replace('/', Path.DirectorySeparatorChar)));
        var rootWithSep = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        // Object names come from the batcher, but a spool file or a future caller must not write outside the root.
        if (!full.StartsWith(rootWithSep, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Object name '{objectName}' escapes the root directory.", nameof(objectName));
        }

        return full;
    }

    public static string ToObjectName(string root, string file) =>
        Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
}
