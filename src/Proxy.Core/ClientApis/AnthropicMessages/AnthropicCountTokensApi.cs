using System.Buffers;
using Proxy.Answers;
using Proxy.Providers;

namespace Proxy.ClientApis.AnthropicMessages;

/// <summary>
/// Anthropic's token counting (<c>POST /v1/messages/count_tokens</c>): a Messages request whose answer is a count. Only
/// hosts of Claude's own API count (Anthropic, Claude on Vertex AI), so it passes through to them; any other target
/// refuses it with a clear 400 rather than an estimate that would pass for the provider's count.
/// </summary>
public sealed class AnthropicCountTokensApi : ClientApi
{
    public override ApiFormat Format => ApiFormat.AnthropicMessages;

    public override string Name => "count_tokens";

    public override Operation Operation => Operation.CountTokens;

    public override string KeyHint => ClientApi.AnthropicMessages.KeyHint;

    public override void WriteError(IBufferWriter<byte> output, int status, string message, string type, string? param, string? code) =>
        MessagesErrors.Write(output, status, message, type);

    public override void WriteErrorEvent(IBufferWriter<byte> output, int status, string message, string type, string? code) =>
        MessagesErrors.WriteEvent(output, status, message, type);

    public override bool IsOwnErrorShape(ReadOnlySpan<byte> body) => MessagesErrors.IsOwnShape(body);

    public override bool KeepsStatus(int upstreamStatus) => upstreamStatus == 529;

    public override AnswerWriter CreateStreamWriter(in UpstreamCall call, long created) =>
        throw new NotSupportedException("token counts are never streamed");

    public override AnswerWriter CreateAnswerWriter(in UpstreamCall call, long created) =>
        throw new NotSupportedException("token counts pass through or are refused");

    /// <summary>Reached only for a target that does not speak Anthropic's API: there is no count to give.</summary>
    public override void WriteChatRequest(ReadOnlySpan<byte> body, IBufferWriter<byte> output) =>
        throw CallRejectedException.Unsupported(
            "count_tokens is not supported for this route: its target's provider has no token counting in Anthropic's API (anthropic and Claude on " +
            "vertex targets do), and the gateway does not make up a count.", "model");
}
