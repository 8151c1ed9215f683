using System.Text;
using System.Text.Json;
using Proxy.Answers;
using Proxy.Providers;
using Proxy.Streaming;

namespace Proxy.Core.Tests.ClientApis.AnthropicMessages;

/// <summary>
/// A provider stand-in for the writers' stream tests: an SSE stream whose every event is one neutral event, written as
/// <c>data: ["text","Hi"]</c> (the event, then its arguments; strings are handed on as the JSON tokens they are). Run
/// through a <see cref="DecodingTranscoder"/>, it lets a writer be fed the way the relay feeds it, a read at a time.
/// </summary>
internal sealed class ScriptDecoder : SseStreamDecoder
{
    public static byte[] Script(params string[] events) => Encoding.UTF8.GetBytes(string.Concat(events.Select(e => "data: " + e + "\n\n")));

    protected override void OnEvent(ReadOnlySpan<byte> evt, AnswerWriter writer)
    {
        Assert.True(SseFramer.TryGetData(evt, out var span));
        byte[] data = span.ToArray();
        var args = new List<(int Start, int Length, JsonTokenType Type)>();
        var reader = new Utf8JsonReader(data);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            args.Add(((int)reader.TokenStartIndex, reader.TokenType == JsonTokenType.String ? reader.ValueSpan.Length + 2 : reader.ValueSpan.Length, reader.TokenType));

        byte[] Token(int i) => data.AsSpan(args[i].Start, args[i].Length).ToArray();
        int Number(int i) => int.Parse(Token(i).AsSpan(), provider: null);
        string Name() => Encoding.UTF8.GetString(Token(0)[1..^1]);

        switch (Name())
        {
            case "start": writer.Start(Token(1), Token(2)); break;
            case "text": writer.Text(Token(1)); break;
            case "reasoning": writer.Reasoning(Token(1)); break;
            case "signature": writer.ReasoningSignature(Token(1)); break;
            case "tool": writer.ToolCallStart(Number(1), Token(2), Token(3)); break;
            case "args": writer.ToolCallArguments(Number(1), Token(2)); break;
            case "finish": writer.Finish(Enum.Parse<FinishReason>(Encoding.UTF8.GetString(Token(1)[1..^1]))); break;
            case "usage":
                writer.SetUsage(new Usage { PromptTokens = Number(1), CompletionTokens = Number(2), CachedTokens = Number(3), CacheWriteTokens = Number(4), Reported = true });
                break;
            case "ping": writer.KeepAlive(); break;
            case "end": writer.End(); break;
            case "error": writer.Error(Encoding.UTF8.GetString(Token(1)[1..^1]), "upstream_error", null, Number(2)); break;
            default: Assert.Fail("unknown script event " + Name()); break;
        }
    }
}
