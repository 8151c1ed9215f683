namespace Proxy.Providers.Anthropic;

/// <summary>
/// How a host of Claude models wants the Messages request body. Anthropic's own API takes the model in the body and
/// the API version as a header. Google Vertex AI takes the model in the URL and the version in the body
/// (<c>anthropic_version: "vertex-2023-10-16"</c>); Bedrock's InvokeModel does the same with its own version string.
/// The translation (request, answer, stream, errors) is otherwise the same, so it is written once against this.
/// </summary>
public sealed record AnthropicDialect
{
    /// <summary>Anthropic's own API: model in the body, version as a header.</summary>
    public static AnthropicDialect Api(int defaultMaxTokens) => new() { DefaultMaxTokens = defaultMaxTokens };

    /// <summary>
    /// Google Vertex AI (rawPredict / streamRawPredict): model in the URL, <c>anthropic_version</c> in the body, where
    /// Vertex requires the value <see cref="VertexVersion"/> (Anthropic's "Claude on Vertex AI" guide).
    /// </summary>
    public static AnthropicDialect Vertex(int defaultMaxTokens) => new() { ModelInBody = false, VersionInBody = VertexVersion, DefaultMaxTokens = defaultMaxTokens };

    public const string VertexVersion = "vertex-2023-10-16";

    /// <summary>Whether <c>model</c> goes in the body (false where the URL names it).</summary>
    public bool ModelInBody { get; init; } = true;

    /// <summary>Written as the body's <c>anthropic_version</c> when set (Vertex AI, Bedrock).</summary>
    public string? VersionInBody { get; init; }

    /// <summary>
    /// Anthropic requires <c>max_tokens</c>; OpenAI clients often send none. This is sent then
    /// (config field <c>default_max_tokens</c>).
    /// </summary>
    public int DefaultMaxTokens { get; init; } = AnthropicSettings.DefaultMaxTokensValue;
}
