using System.Text;
using Proxy.Answers;
using Proxy.ClientApis.OpenAiChat;
using Proxy.Providers.OpenAI;
using Proxy.Providers.Tests.Common;

namespace Proxy.Providers.Tests.OpenAI;

/// <summary>OpenAI chat streams decoded into neutral events, at every byte split, and written again as OpenAI chunks.</summary>
public class OpenAiChatStreamDecoderTests
{
    private static (string[] Events, StreamState State) Decode(byte[] stream)
    {
        var (output, state) = Rechunk.EveryOffset(() => new DecodingTranscoder(new OpenAiChatStreamDecoder("openai"), new RecordingAnswerWriter()), stream);
        return (RecordingAnswerWriter.Lines(output), state);
    }

    private static (string[] Events, StreamState State) Decode(string stream) => Decode(Encoding.UTF8.GetBytes(stream));

    [Fact]
    public void Text_WithCachedTokens_IsDecodedAtEveryOffset()
    {
        var (events, state) = Decode(Fixture.Bytes("OpenAI", "text.stream.sse"));

        Assert.Equal(
        [
            """start "chatcmpl-CDm8pUAaq1ZKLw0YqFJ7xQ3bT2e9s" "gpt-4o-mini-2024-07-18" """.TrimEnd(),
            """text "Hello" """.TrimEnd(),
            """text "!" """.TrimEnd(),
            """text " The" """.TrimEnd(),
            """text " café" """.TrimEnd(),
            """text " opens" """.TrimEnd(),
            """text " at" """.TrimEnd(),
            """text " 8" """.TrimEnd(),
            """text " a.m." """.TrimEnd(),
            """text "\n\n\"Welcome\"" """.TrimEnd(), // as the upstream escaped it
            "finish Stop",
            "end usage 1370/14 cached 1152",
        ], events);
        Assert.True(state.Completed);
        Assert.Equal(new Usage { PromptTokens = 1370, CompletionTokens = 14, CachedTokens = 1152, Reported = true }, state.Usage);
    }

    [Fact]
    public void Azure_StartsAtTheFirstChunkWithAnId_NotAtItsPromptFilterChunk()
    {
        var (events, state) = Decode(Fixture.Bytes("AzureOpenAI", "stream.sse"));

        Assert.Equal(["""start "chatcmpl-az1" "gpt-4o-2024-11-20" """.TrimEnd(), """text "Hello" """.TrimEnd(), "finish Stop", "end usage 9/1 cached 0"], events);
        Assert.True(state.Completed);
    }

    [Fact]
    public void EmptyAnswer_StillStartsBeforeItEnds()
    {
        var (events, _) = Decode("data: {\"id\":\"\",\"choices\":[]}\n\ndata: [DONE]\n\n");

        Assert.Equal(["start - -", "end"], events);
    }

    [Fact]
    public void ParallelToolCalls_StartThenStreamTheirArguments()
    {
        var (events, state) = Decode(Fixture.Bytes("OpenAI", "tools.stream.sse"));

        Assert.Equal(
        [
            """start "chatcmpl-CDmA1xW3p9cN4fG7hJ2kLq8rT5vYz" "gpt-4o-2024-08-06" """.TrimEnd(),
            """tool 0 "call_3Qf8Zr2mKp1XyT7vLw9nB4sD" "get_weather" """.TrimEnd(),
            """args 0 "{\"lo" """.TrimEnd(),
            """args 0 "cation\":" """.TrimEnd(),
            """args 0 "\"Paris" """.TrimEnd(),
            """args 0 ", France" """.TrimEnd(),
            """args 0 "\"}" """.TrimEnd(),
            """tool 1 "call_8Hn2Vc5xQe4RtY1uIo0pAs6D" "get_time" """.TrimEnd(),
            """args 1 "{\"ti" """.TrimEnd(),
            """args 1 "mezone\":" """.TrimEnd(),
            """args 1 "\"Europe/" """.TrimEnd(),
            """args 1 "Paris\"}" """.TrimEnd(),
            "finish ToolCalls",
            "end usage 112/52 cached 0",
        ], events);
        Assert.True(state.Completed);
    }

    [Fact]
    public void ToolCalls_WholeInOneChunk_StartAndCarryTheirArguments()
    {
        // Groq, vLLM and others send each call whole: start and arguments in one entry, several entries in one chunk.
        var (events, _) = Decode(Fixture.Bytes("OpenAI", "tools-one-chunk.stream.sse"));

        Assert.Equal(
        [
            """start "chatcmpl-5f2c0a7e-8b1d-4c3a-9e6f-2d4b8a1c7e90" "llama-3.3-70b-versatile" """.TrimEnd(),
            """tool 0 "call_a1b2" "get_weather" """.TrimEnd(),
            """args 0 "{\"location\":\"Paris, France\"}" """.TrimEnd(),
            """tool 1 "call_c3d4" "get_time" """.TrimEnd(),
            """args 1 "{\"timezone\":\"Europe/Paris\"}" """.TrimEnd(),
            "finish ToolCalls",
            "end usage 240/41 cached 0", // the usage rode on the finish chunk (the x_groq copy is not read)
        ], events);
    }

    [Fact]
    public void ReasoningContent_AndKeepAlives_AreDecoded()
    {
        var (events, state) = Decode(Fixture.Bytes("OpenAI", "reasoning.stream.sse"));

        Assert.Equal(
        [
            "keepalive",
            """start "3b1f2a6c-7d4e-4f8a-9c2b-5e6d7f8a9b0c" "deepseek-reasoner" """.TrimEnd(),
            """reasoning "The user" """.TrimEnd(),
            """reasoning " asks 9.11 vs" """.TrimEnd(),
            """reasoning " 9.8.\n" """.TrimEnd(),
            """reasoning "Compare decimals: 0.11 < 0.8." """.TrimEnd(),
            "keepalive",
            """text "9.8" """.TrimEnd(),
            """text " is larger" """.TrimEnd(),
            """text "." """.TrimEnd(),
            "finish Stop",
            "end usage 18/96 cached 0",
        ], events);
        Assert.True(state.Completed);
    }

    [Fact]
    public void ReasoningField_OpenRouterStyle_CountsOnceWhenBothNamesCome()
    {
        var (events, _) = Decode(
            ": OPENROUTER PROCESSING\n\n" +
            "data: {\"id\":\"gen-1\",\"model\":\"deepseek/deepseek-r1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"reasoning\":\"Think\"}}]}\n\n" +
            "data: {\"id\":\"gen-1\",\"model\":\"deepseek/deepseek-r1\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\" more\",\"reasoning\":\" more\"}}]}\n\n" +
            "data: {\"id\":\"gen-1\",\"model\":\"deepseek/deepseek-r1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Done\"},\"finish_reason\":\"stop\"}]}\n\n" +
            "data: [DONE]\n\n");

        Assert.Equal(["keepalive", """start "gen-1" "deepseek/deepseek-r1" """.TrimEnd(), """reasoning "Think" """.TrimEnd(),
            """reasoning " more" """.TrimEnd(), """text "Done" """.TrimEnd(), "finish Stop", "end"], events);
    }

    [Fact]
    public void Refusal_IsText_AndTheFinishIsTheChunksOwn()
    {
        var (events, _) = Decode(Fixture.Bytes("OpenAI", "refusal.stream.sse"));

        Assert.Equal(
        [
            """start "chatcmpl-CDmD9uV1zIl3Mq6Rx9Ay4Wc7Oo2Kt" "gpt-4o-2024-08-06" """.TrimEnd(),
            """text "I'm sorry," """.TrimEnd(),
            """text " I can't" """.TrimEnd(),
            """text " help with that." """.TrimEnd(),
            "finish Stop", // OpenAI documents no finish_reason for a refusal
            "end usage 85/10 cached 0",
        ], events);
    }

    [Fact]
    public void ErrorEvent_FailsTheAnswerWithTheUpstreamsMessage()
    {
        var (events, state) = Decode(Fixture.Bytes("OpenAI", "error.stream.sse"));

        Assert.Equal(3, events.Length);
        Assert.Equal("""text "Once upon" """.TrimEnd(), events[1]);
        Assert.StartsWith("error 500 upstream_error upstream_error: Upstream 'openai' failed", events[2], StringComparison.Ordinal);
        Assert.Contains("The server had an error while processing your request", events[2], StringComparison.Ordinal);
        Assert.True(state.Failed);
        Assert.False(state.Completed);
    }

    [Theory]
    [InlineData("""{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}""", 429, "rate_limit_error")]
    [InlineData("""{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}""", 400, "invalid_request_error")]
    [InlineData("""{"error":{"code":"429","message":"Requests have exceeded the token rate limit"}}""", 429, "rate_limit_error")]
    [InlineData("""{"error":{"message":"filtered","type":null,"param":"prompt","code":"content_filter","status":400}}""", 400, "invalid_request_error")]
    [InlineData("""{"error":{"message":"no type"}}""", 500, "upstream_error")]
    public void ErrorEvent_StatusComesFromTheErrorsFields(string error, int status, string type)
    {
        var (events, state) = Decode($"data: {error}\n\n");

        Assert.StartsWith($"error {status} {type} ", Assert.Single(events), StringComparison.Ordinal);
        Assert.True(state.Failed);
    }

    [Fact]
    public void ErrorNamedByTheSseEvent_FailsTheAnswer()
    {
        var (events, _) = Decode("event: error\ndata: {\"message\":\"overloaded\",\"type\":\"server_error\"}\n\n");

        Assert.StartsWith("error 500 upstream_error ", Assert.Single(events), StringComparison.Ordinal);
        Assert.Contains("overloaded", events[0], StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidJson_FailsTheAnswer()
    {
        var (events, state) = Decode("data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"choices\":[\n\n");

        Assert.Equal("error 502 upstream_error upstream_invalid_answer: Upstream 'openai' sent a stream event that is not valid JSON.", events[^1]);
        Assert.True(state.Failed);
    }

    [Fact]
    public void StreamWithoutDone_StaysIncomplete()
    {
        var stream = Fixture.Text("OpenAI", "text.stream.sse").Replace("data: [DONE]\n\n", "", StringComparison.Ordinal);

        var (events, state) = Decode(stream);

        Assert.False(state.Completed);
        Assert.False(state.Failed);
        Assert.Equal("finish Stop", events[^1]);
    }

    [Fact]
    public void OtherChoices_AreIgnored_WhateverThePropertyOrder()
    {
        var (events, _) = Decode(
            "data: {\"choices\":[{\"delta\":{\"content\":\"B\"},\"index\":1},{\"delta\":{\"content\":\"A\"},\"index\":0}],\"model\":\"m\",\"id\":\"c\"}\n\n" +
            "data: {\"id\":\"c\",\"choices\":[{\"index\":1,\"delta\":{},\"finish_reason\":\"length\"},{\"finish_reason\":\"stop\",\"index\":0,\"delta\":{\"content\":\"!\"}}]}\n\n" +
            "data: [DONE]\n\n");

        // The start comes first though the id and model came last; the text before the finish that preceded it.
        Assert.Equal(["""start "c" "m" """.TrimEnd(), """text "A" """.TrimEnd(), """text "!" """.TrimEnd(), "finish Stop", "end"], events);
    }

    [Fact]
    public void ToolEntries_WithoutIndex_AndArgumentsAsAnObject_AreUnderstood()
    {
        var (events, _) = Decode(
            "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\":\"}}]}}]}\n\n" +
            "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\"1}\"}}]}}]}\n\n" +
            "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"b\",\"function\":{\"name\":\"g\",\"arguments\":{\"y\":2}}}]}}]}\n\n" +
            "data: [DONE]\n\n");

        Assert.Equal(
        [
            """start "c" "m" """.TrimEnd(),
            """tool 0 "a" "f" """.TrimEnd(),
            """args 0 "{\"x\":" """.TrimEnd(),
            """args 0 "1}" """.TrimEnd(),
            """tool 1 "b" "g" """.TrimEnd(),
            """args 1 "{\"y\":2}" """.TrimEnd(),
            "end",
        ], events);
    }

    [Theory]
    [InlineData("text.stream.sse")]
    [InlineData("tools.stream.sse")]
    [InlineData("tools-one-chunk.stream.sse")]
    [InlineData("reasoning.stream.sse")]
    [InlineData("refusal.stream.sse")]
    public void RewrittenAsOpenAiChunks_SaysWhatTheUpstreamSaid(string fixture)
    {
        var upstream = Fixture.Bytes("OpenAI", fixture);

        var (output, state) = Rechunk.EveryOffset(
            () => new DecodingTranscoder(new OpenAiChatStreamDecoder("openai"), new ChatChunkWriter(1_700_000_000, clientWantsUsage: true)), upstream);

        Assert.True(state.Completed);
        Assert.Equal(ChatSummary.FromStream(Encoding.UTF8.GetString(upstream)), ChatSummary.FromStream(output));
        Assert.EndsWith("data: [DONE]\n\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public void RewrittenAsOpenAiChunks_AnErrorEventEndsTheClientsStream()
    {
        var (output, state) = Rechunk.EveryOffset(
            () => new DecodingTranscoder(new OpenAiChatStreamDecoder("openai"), new ChatChunkWriter(1_700_000_000, clientWantsUsage: false)),
            Fixture.Bytes("OpenAI", "error.stream.sse"));

        Assert.True(state.Failed);
        Assert.Contains("\"content\":\"Once upon\"", output, StringComparison.Ordinal);
        Assert.EndsWith("\"type\":\"upstream_error\",\"param\":null,\"code\":\"upstream_error\"}}\n\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public void GatheredIntoOneCompletion_SaysWhatTheStreamSaid()
    {
        var upstream = Fixture.Bytes("OpenAI", "tools.stream.sse");

        var (output, _) = Rechunk.EveryOffset(
            () => new DecodingTranscoder(new OpenAiChatStreamDecoder("openai"), new ChatCompletionWriter(1_700_000_000)), upstream);

        Assert.Equal(ChatSummary.FromStream(Encoding.UTF8.GetString(upstream)), ChatSummary.FromCompletion(output));
    }

    [Fact]
    public void TextChunks_AllocateNothingBeyondTheWriters()
    {
        var chunk = Encoding.UTF8.GetBytes(
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n");
        var decoder = new OpenAiChatStreamDecoder("openai");
        var writer = new CountingWriter();
        var input = new System.Buffers.ReadOnlySequence<byte>(chunk);
        decoder.Decode(ref input, writer); // the first chunk starts the answer; warm-up

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            input = new System.Buffers.ReadOnlySequence<byte>(chunk);
            decoder.Decode(ref input, writer);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(101, writer.Texts);
    }

    /// <summary>Counts texts and writes nothing, so any allocation measured is the decoder's.</summary>
    private sealed class CountingWriter : AnswerWriter
    {
        public int Texts { get; private set; }

        public override void Start(ReadOnlySpan<byte> id, ReadOnlySpan<byte> model)
        {
        }

        public override void Text(ReadOnlySpan<byte> text) => Texts++;

        public override void Reasoning(ReadOnlySpan<byte> text)
        {
        }

        public override void ToolCallStart(int index, ReadOnlySpan<byte> id, ReadOnlySpan<byte> name)
        {
        }

        public override void ToolCallArguments(int index, ReadOnlySpan<byte> fragment)
        {
        }

        public override void Finish(FinishReason reason, ReadOnlySpan<byte> stopSequence = default)
        {
        }

        public override void End() => MarkCompleted();

        public override void Error(string message, string type, string? code, int status) => MarkFailed();
    }
}
