namespace Proxy.Config;

/// <summary>One mistake in a config file: where it is and what is wrong.</summary>
public sealed record ConfigError(string Path, int Line, int Column, string Reason)
{
    public string Format(string file) => Line > 0
        ? $"{file}:{Line}:{Column}: {Path}: {Reason}"
        : $"{file}: {Path}: {Reason}";
}

/// <summary>A config file that cannot be used, with every mistake found in it (not just the first).</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string file, IReadOnlyList<ConfigError> errors)
        : base(Describe(file, errors))
    {
        File = file;
        Errors = errors;
    }

    public ConfigException() : this("(config)", []) { }

    public ConfigException(string message) : base(message)
    {
        File = "(config)";
        Errors = [];
    }

    public ConfigException(string message, Exception inner) : base(message, inner)
    {
        File = "(config)";
        Errors = [];
    }

    public string File { get; }

    public IReadOnlyList<ConfigError> Errors { get; }

    private static string Describe(string file, IReadOnlyList<ConfigError> errors) =>
        errors.Count == 1
            ? "invalid config: " + errors[0].Format(file)
            : $"invalid config ({errors.Count} errors):" + string.Concat(errors.Select(e => "\n  " + e.Format(file)));
}
