using System.Buffers;
using Proxy.Answers;
using Proxy.Providers;

namespace Proxy.ClientApis.AnthropicMessages;

/// <summary>
/// Anthropic's Messages API (<c>POST /v1/messages</c>), for applications written against an Anthropic SDK (Claude Code
/// among them). Over Anthropic itself the bytes pass through; over any other provider the request is written as the
/// canonical OpenAI chat request (<see cref="ChatRequestWriter"/>) and the provider's answer as Anthropic's message
/// or event stream (<see cref="MessageAnswerWriter"/>, <see cref="MessageStreamWriter"/>).
/// </summary>
public sealed class AnthropicMessagesApi : ClientApi
{
    public override ApiFormat Format => ApiFormat.AnthropicMessages;

    public override string Name => "messages";

    public override Operation Operation => Operation.ChatCompletions;

    /// <summary>Anthropic's error body has no param or code: the message carries what the client needs.</summary>
    public override void WriteError(IBufferWriter<byte> output, int status, string message, string type, string? param, string? code) =>
        MessagesErrors.Write(output, status, message, type);

    public override void WriteErrorEvent(IBufferWriter<byte> output, int status, string message, string type, string? code) =>
        MessagesErrors.WriteEvent(output, status, message, type);

    public override bool IsOwnErrorShape(ReadOnlySpan<byte> body) => MessagesErrors.IsOwnShape(body);

    /// <summary>Anthropic's own "overloaded" status: its SDKs retry it, so a passthrough keeps it rather than the 503 OpenAI clients get.</summary>
    public override bool KeepsStatus(int upstreamStatus) => upstreamStatus == 529;

    public override string KeyHint => "Send your gateway key as 'x-api-key: KEY' (or 'Authorization: Bearer KEY').";

    // The message is dated by nothing in Anthropic's shape, so `created` goes unused; ids are Anthropic's msg_ style.
    public override AnswerWriter CreateStreamWriter(in UpstreamCall call, long created) =>
        new MessageStreamWriter("msg_" + call.RequestId, call.Target?.UpstreamModelJson);

    public override AnswerWriter CreateAnswerWriter(in UpstreamCall call, long created) =>
        new MessageAnswerWriter("msg_" + call.RequestId, call.Target?.UpstreamModelJson);

    public override CallRejectedException? RefuseTranslation(Microsoft.AspNetCore.Http.IHeaderDictionary headers) =>
        AnthropicBetas.Refusal(headers["anthropic-beta"]);

    public override void WriteChatRequest(ReadOnlySpan<byte> body, IBufferWriter<byte> output) => ChatRequestWriter.Write(body, output);
}
