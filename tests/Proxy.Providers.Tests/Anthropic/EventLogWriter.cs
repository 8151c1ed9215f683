using System.Text;
using Proxy.Answers;

namespace Proxy.Providers.Tests.Anthropic;

/// <summary>
/// Writes each neutral event as one line of text (JSON tokens as the decoder passed them), so a decoder's events can be
/// compared whole, and at every byte split through <see cref="Common.Rechunk"/>.
/// </summary>
internal sealed class EventLogWriter : AnswerWriter
{
    public override void Start(ReadOnlySpan<byte> id, ReadOnlySpan<byte> model) => Line($"start {Utf8(id)} {Utf8(model)}");

    public override void Text(ReadOnlySpan<byte> text) => Line($"text {Utf8(text)}");

    public override void Reasoning(ReadOnlySpan<byte> text) => Line($"reasoning {Utf8(text)}");

    public override void ReasoningSignature(ReadOnlySpan<byte> signature) => Line($"signature {Utf8(signature)}");

    public override void ToolCallStart(int index, ReadOnlySpan<byte> id, ReadOnlySpan<byte> name) => Line($"tool {index} {Utf8(id)} {Utf8(name)}");

    public override void ToolCallArguments(int index, ReadOnlySpan<byte> fragment) => Line($"arguments {index} {Utf8(fragment)}");

    public override void Finish(FinishReason reason, ReadOnlySpan<byte> stopSequence = default) =>
        Line(stopSequence.IsEmpty ? $"finish {reason}" : $"finish {reason} {Utf8(stopSequence)}");

    public override void End()
    {
        Line($"end prompt={Usage.PromptTokens} completion={Usage.CompletionTokens} cached={Usage.CachedTokens} written={Usage.CacheWriteTokens}");
        MarkCompleted();
    }

    public override void Error(string message, string type, string? code, int status)
    {
        Line($"error {status} {type} {code} {message}");
        MarkFailed();
    }

    public override void KeepAlive() => Line("keepalive");

    private static string Utf8(ReadOnlySpan<byte> token) => Encoding.UTF8.GetString(token);

    private void Line(string line)
    {
        Raw(Encoding.UTF8.GetBytes(line + "\n"));
        Wrote();
    }
}
