using System.Text;
using Proxy.Answers;

namespace Proxy.Providers.Tests.OpenAI;

/// <summary>
/// Writes each neutral event it is given as one text line (tokens as the decoder passed them, quotes and escapes
/// included), so a decoder's output can be compared line by line and at every byte split like any transcoder's. The
/// usage, kept until the end by the contract, is written on the end line.
/// </summary>
public sealed class RecordingAnswerWriter : AnswerWriter
{
    public override void Start(ReadOnlySpan<byte> id, ReadOnlySpan<byte> model) => Line($"start {Token(id)} {Token(model)}");

    public override void Text(ReadOnlySpan<byte> text) => Line($"text {Token(text)}");

    public override void Reasoning(ReadOnlySpan<byte> text) => Line($"reasoning {Token(text)}");

    public override void ToolCallStart(int index, ReadOnlySpan<byte> id, ReadOnlySpan<byte> name) => Line($"tool {index} {Token(id)} {Token(name)}");

    public override void ToolCallArguments(int index, ReadOnlySpan<byte> fragment) => Line($"args {index} {Token(fragment)}");

    public override void Finish(FinishReason reason, ReadOnlySpan<byte> stopSequence = default) => Line($"finish {reason}");

    public override void End()
    {
        Line(Usage.Reported ? $"end usage {Usage.PromptTokens}/{Usage.CompletionTokens} cached {Usage.CachedTokens}" : "end");
        MarkCompleted();
    }

    public override void Error(string message, string type, string? code, int status)
    {
        Line($"error {status} {type} {code ?? "-"}: {message}");
        Failure = new UpstreamFailure(status, type, code, message, false);
        MarkFailed();
    }

    public override void KeepAlive() => Line("keepalive");

    /// <summary>The lines of what a recording wrote.</summary>
    public static string[] Lines(string recorded) => recorded.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static string Token(ReadOnlySpan<byte> token) => token.IsEmpty ? "-" : Encoding.UTF8.GetString(token);

    private void Line(string line)
    {
        Raw(Encoding.UTF8.GetBytes(line + "\n"));
        Wrote();
    }
}
