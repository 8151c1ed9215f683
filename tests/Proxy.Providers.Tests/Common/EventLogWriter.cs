using System.Globalization;
using System.Text;
using Proxy.Answers;

namespace Proxy.Providers.Tests.Common;

/// <summary>
/// An <see cref="AnswerWriter"/> that writes each neutral event as one line of text (tokens as they came), so a
/// decoder's events can be compared with a fixture, and at every byte split through <see cref="Rechunk"/> (wrapped in
/// a <see cref="DecodingTranscoder"/>). The usage is written with the end, where client writers use it.
/// </summary>
public sealed class EventLogWriter : AnswerWriter
{
    public override void Start(ReadOnlySpan<byte> id, ReadOnlySpan<byte> model) => Line($"start id={Token(id)} model={Token(model)}");

    public override void Text(ReadOnlySpan<byte> text) => Line("text " + Token(text));

    public override void Reasoning(ReadOnlySpan<byte> text) => Line("reasoning " + Token(text));

    public override void ReasoningSignature(ReadOnlySpan<byte> signature) => Line("signature " + Token(signature));

    public override void ToolCallStart(int index, ReadOnlySpan<byte> id, ReadOnlySpan<byte> name) =>
        Line($"tool {index} id={Token(id)} name={Token(name)}");

    public override void ToolCallArguments(int index, ReadOnlySpan<byte> fragment) => Line($"arguments {index} {Token(fragment)}");

    public override void Finish(FinishReason reason, ReadOnlySpan<byte> stopSequence = default) =>
        Line(stopSequence.IsEmpty ? $"finish {reason}" : $"finish {reason} {Token(stopSequence)}");

    public override void End()
    {
        if (Usage.Reported)
        {
            Line(string.Create(CultureInfo.InvariantCulture,
                $"usage prompt={Usage.PromptTokens} completion={Usage.CompletionTokens} cached={Usage.CachedTokens} cache_write={Usage.CacheWriteTokens}"));
        }
        Line("end");
        MarkCompleted();
    }

    public override void Error(string message, string type, string? code, int status)
    {
        Line(string.Create(CultureInfo.InvariantCulture, $"error {status} {type} {code}: {message}"));
        Failure = new UpstreamFailure(status, type, code, message, false);
        MarkFailed();
    }

    public override void KeepAlive() => Line("keep-alive");

    private static string Token(ReadOnlySpan<byte> token) => token.IsEmpty ? "(none)" : Encoding.UTF8.GetString(token);

    private void Line(string line)
    {
        Raw(Encoding.UTF8.GetBytes(line + "\n"));
        Wrote();
    }
}
