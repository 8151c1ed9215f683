using System.Buffers;
using Proxy.Answers;
using Proxy.Errors;
using Proxy.Providers;

namespace Proxy.ClientApis.OpenAiChat;

/// <summary>OpenAI chat completions (<c>POST /v1/chat/completions</c>): the canonical shape every adapter translates from.</summary>
public sealed class OpenAiChatApi : ClientApi
{
    public override ApiFormat Format => ApiFormat.OpenAiChat;

    public override string Name => "chat_completions";

    public override Operation Operation => Operation.ChatCompletions;

    public override void WriteError(IBufferWriter<byte> output, int status, string message, string type, string? param, string? code) =>
        OpenAiError.Write(output, message, type, param, code);

    public override void WriteErrorEvent(IBufferWriter<byte> output, int status, string message, string type, string? code) =>
        OpenAiError.WriteEvent(output, message, type, code);

    public override bool IsOwnErrorShape(ReadOnlySpan<byte> body) => OpenAiError.IsOpenAiShape(body);

    public override AnswerWriter CreateStreamWriter(in UpstreamCall call, long created) => new ChatChunkWriter(created, call.Facts.IncludeUsage, "chatcmpl-" + call.RequestId);

    public override AnswerWriter CreateAnswerWriter(in UpstreamCall call, long created) => new ChatCompletionWriter(created, "chatcmpl-" + call.RequestId);
}

/// <summary>OpenAI embeddings (<c>POST /v1/embeddings</c>): answers are whole and in OpenAI's shape from every adapter.</summary>
public sealed class OpenAiEmbeddingsApi : ClientApi
{
    public override ApiFormat Format => ApiFormat.OpenAiEmbeddings;

    public override string Name => "embeddings";

    public override Operation Operation => Operation.Embeddings;

    public override void WriteError(IBufferWriter<byte> output, int status, string message, string type, string? param, string? code) =>
        OpenAiError.Write(output, message, type, param, code);

    public override void WriteErrorEvent(IBufferWriter<byte> output, int status, string message, string type, string? code) =>
        OpenAiError.WriteEvent(output, message, type, code);

    public override bool IsOwnErrorShape(ReadOnlySpan<byte> body) => OpenAiError.IsOpenAiShape(body);

    public override AnswerWriter CreateStreamWriter(in UpstreamCall call, long created) =>
        throw new NotSupportedException("embeddings are never streamed");

    public override AnswerWriter CreateAnswerWriter(in UpstreamCall call, long created) =>
        throw new NotSupportedException("embedding answers are translated by each adapter");
}
