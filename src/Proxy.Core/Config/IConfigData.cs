namespace Proxy.Config;

/// <summary>
/// The config's data sections (providers, routes, teams, keys) when they come from the control plane rather than the
/// file: the loader appends <see cref="Sections"/> to the file's text and validates the whole by the file's rules, and
/// opens <c>${sealed:...}</c> credentials through <see cref="Unseal"/>.
/// </summary>
public interface IConfigData
{
    /// <summary>The four sections as YAML text (JSON flow style), appended to the file's; never null once started.</summary>
    string Sections { get; }

    /// <summary>Opens a sealed credential (the text after <c>sealed:</c>); null with <paramref name="error"/> when it cannot.</summary>
    string? Unseal(string sealedValue, out string? error);
}
