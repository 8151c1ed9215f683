namespace Proxy.ClientApis.AnthropicMessages;

/// <summary>
/// Where a value is in the client's request (<c>messages[2].content[0].content[1]</c>), kept as numbers and turned into
/// the param path only when a refusal names it, so a valid request builds no path strings.
/// </summary>
internal readonly struct ParamPath(string root, int index = -1, int block = -1, int part = -1)
{
    /// <summary>The next level down: the item of a root array, then a message's content blocks, then a block's own content.</summary>
    public ParamPath Item(int i) => index < 0 ? new(root, i) : block < 0 ? new(root, index, i) : new(root, index, block, i);

    /// <summary>A field of the value here.</summary>
    public string Field(string name) => ToString() + "." + name;

    public override string ToString() =>
        root + (index < 0 ? "" : $"[{index}]") + (block < 0 ? "" : $".content[{block}]") + (part < 0 ? "" : $".content[{part}]");
}
