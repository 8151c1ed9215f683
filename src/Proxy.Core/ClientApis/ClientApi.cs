using System.Buffers;
using Proxy.Answers;
using Proxy.Providers;

namespace Proxy.ClientApis;

/// <summary>The wire formats the gateway speaks to clients, and which a provider may speak natively.</summary>
public enum ApiFormat : byte
{
    OpenAiChat,
    OpenAiEmbeddings,
    AnthropicMessages,
    OpenAiResponses,
}

/// <summary>
/// What a client speaks, chosen per endpoint: its error shape, its writers (one for streams, one for whole answers)
/// and how its request becomes the canonical OpenAI chat request that adapters translate from when the provider does
/// not speak the client's API. When the provider does speak it, none of this touches the bytes: they pass through.
/// One stateless instance per API.
/// </summary>
public abstract class ClientApi
{
    public abstract ApiFormat Format { get; }

    /// <summary>The label value in metrics and the request log ("chat_completions", "messages"...).</summary>
    public abstract string Name { get; }

    /// <summary>Whether requests in this API are already the canonical OpenAI shape adapters translate from (chat, embeddings).</summary>
    public bool IsCanonical => Format is ApiFormat.OpenAiChat or ApiFormat.OpenAiEmbeddings;

    /// <summary>
    /// The request must be translated even for a provider that speaks this API: it refers to what only the gateway
    /// holds (a Responses request continuing a response the gateway stored).
    /// </summary>
    public virtual bool NeedsTranslation => false;

    /// <summary>How this API's clients send a key, for the 401 that says a key is missing.</summary>
    public virtual string KeyHint => "Send your gateway key as 'Authorization: Bearer KEY'.";

    /// <summary>What the upstream call is when the request is translated (chat or embeddings).</summary>
    public abstract Operation Operation { get; }

    /// <summary>Writes a gateway-made error body in this API's shape. <paramref name="type"/> is an <see cref="Errors.OpenAiError"/> type.</summary>
    public abstract void WriteError(IBufferWriter<byte> output, int status, string message, string type, string? param, string? code);

    /// <summary>Writes the SSE event that ends a stream which broke after it began.</summary>
    public abstract void WriteErrorEvent(IBufferWriter<byte> output, int status, string message, string type, string? code);

    /// <summary>Whether an upstream error body is already in this API's shape and can go to the client as it is.</summary>
    public abstract bool IsOwnErrorShape(ReadOnlySpan<byte> body);

    /// <summary>
    /// Whether an upstream error status that the gateway would otherwise restate (Anthropic's 529 becomes 503 for OpenAI
    /// clients) is this API's own and reaches its clients as it is, with the upstream's body.
    /// </summary>
    public virtual bool KeepsStatus(int upstreamStatus) => false;

    /// <summary>The writer for one streamed answer translated from another API.</summary>
    public abstract AnswerWriter CreateStreamWriter(in UpstreamCall call, long created);

    /// <summary>The writer for one whole answer translated from another API (it writes it all at <see cref="AnswerWriter.End"/>).</summary>
    public abstract AnswerWriter CreateAnswerWriter(in UpstreamCall call, long created);

    /// <summary>Why the request cannot be translated for what its headers ask (an Anthropic server-side beta); null when it can.</summary>
    public virtual CallRejectedException? RefuseTranslation(Microsoft.AspNetCore.Http.IHeaderDictionary headers) => null;

    /// <summary>
    /// Writes the client's request as the canonical OpenAI chat request, for providers that do not speak this API.
    /// Throws <see cref="CallRejectedException"/> for a request that cannot be expressed. The chat API itself never needs it.
    /// </summary>
    public virtual void WriteChatRequest(ReadOnlySpan<byte> body, IBufferWriter<byte> output) =>
        throw new NotSupportedException($"{Name} requests are the canonical shape");

    public static ClientApi OpenAiChat { get; } = new OpenAiChat.OpenAiChatApi();

    public static ClientApi OpenAiEmbeddings { get; } = new OpenAiChat.OpenAiEmbeddingsApi();

    public static ClientApi AnthropicMessages { get; } = new AnthropicMessages.AnthropicMessagesApi();

    public static ClientApi AnthropicCountTokens { get; } = new AnthropicMessages.AnthropicCountTokensApi();

    public static ClientApi OpenAiResponses { get; } = new OpenAiResponses.OpenAiResponsesApi();

    /// <summary>Every client API the gateway serves (metrics make their series up front).</summary>
    public static IReadOnlyList<ClientApi> All => [OpenAiChat, OpenAiEmbeddings, AnthropicMessages, AnthropicCountTokens, OpenAiResponses];
}
