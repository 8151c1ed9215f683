using System.Text.Json;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests;

/// <summary>The built-in mock provider: plain answers, streams and embeddings in the OpenAI wire format.</summary>
public sealed class MockTests
{
    /// <summary>The mock's first five words (completion_tokens: 5).</summary>
    public const string FiveTokens = "This is a deterministic answer";

    public static readonly string[] FiveTokenPieces = ["This", " is", " a", " deterministic", " answer"];

    [Fact]
    public async Task Mock_PlainChat_AnswerWithUsage()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"mock-gpt","messages":[{"role":"user","content":"hello"}]}""");

        Assert.Equal(200, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = doc.RootElement;
        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.Equal("mock-1", root.GetProperty("model").GetString());
        var choice = root.GetProperty("choices")[0];
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal(FiveTokens, choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        var usage = root.GetProperty("usage");
        Assert.Equal(5, usage.GetProperty("completion_tokens").GetInt32());
        Assert.True(usage.GetProperty("prompt_tokens").GetInt32() > 0);
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + 5, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Mock_MaxTokensBelowCompletionTokens_TruncatedWithFinishLength()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"mock-gpt","messages":[{"role":"user","content":"hi"}],"max_tokens":2}""");

        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var choice = doc.RootElement.GetProperty("choices")[0];
        Assert.Equal("This is", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Mock_Stream_RoleChunk_ContentChunks_FinishChunk_Done()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync("/v1/chat/completions", """{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = Sse.Parse(await Http.ReadBodyAsync(response));
        Assert.Equal(1 + 5 + 1 + 1, events.Count); // no usage chunk: the client did not ask for it
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.All(chunks, c => Assert.Equal("mock-1", c.GetProperty("model").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", Delta(chunks[0]).GetProperty("role").GetString());
        Assert.Equal(FiveTokenPieces, chunks[1..6].Select(c => Delta(c).GetProperty("content").GetString()));
        Assert.Equal("stop", chunks[6].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Mock_StreamWithIncludeUsage_UsageChunkBeforeDone()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync("/v1/chat/completions",
            """{"model":"mock-gpt","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}""");

        var events = Sse.Parse(await Http.ReadBodyAsync(response));
        Assert.Equal(1 + 5 + 1 + 1 + 1, events.Count);
        Assert.Equal("[DONE]", events[^1]);
        using var usageChunk = JsonDocument.Parse(events[^2]);
        Assert.Equal(0, usageChunk.RootElement.GetProperty("choices").GetArrayLength());
        Assert.Equal(5, usageChunk.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Mock_Embeddings_FloatVectorsOnePerInput()
    {
        await using var env = await TestEnv.StartAsync();

        using var response = await env.Gateway.PostAsync("/v1/embeddings", """{"model":"mock-gpt","input":["alpha","beta","alpha"]}""");

        Assert.Equal(200, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("list", doc.RootElement.GetProperty("object").GetString());
        Assert.Equal("mock-1", doc.RootElement.GetProperty("model").GetString());
        var data = doc.RootElement.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], data.Select(d => d.GetProperty("index").GetInt32()));
        var vectors = data.Select(d => d.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToList();
        Assert.All(vectors, v => Assert.Equal(8, v.Length));
        Assert.All(vectors, v => Assert.InRange(Math.Sqrt(v.Sum(x => (double)x * x)), 0.999, 1.001));
        Assert.Equal(vectors[0], vectors[2]);
        Assert.NotEqual(vectors[0], vectors[1]);
        Assert.True(doc.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task Mock_EmbeddingsBase64_SameVectorAsFloats()
    {
        await using var env = await TestEnv.StartAsync();

        using var floats = await env.Gateway.PostAsync("/v1/embeddings", """{"model":"mock-gpt","input":"alpha"}""");
        using var base64 = await env.Gateway.PostAsync("/v1/embeddings", """{"model":"mock-gpt","input":"alpha","encoding_format":"base64"}""");

        using var f = JsonDocument.Parse(await floats.Content.ReadAsStringAsync());
        using var b = JsonDocument.Parse(await base64.Content.ReadAsStringAsync());
        var expected = f.RootElement.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var bytes = b.RootElement.GetProperty("data")[0].GetProperty("embedding").GetBytesFromBase64();
        var decoded = Enumerable.Range(0, bytes.Length / 4).Select(i => BitConverter.ToSingle(bytes, i * 4)).ToArray();
        Assert.Equal(expected, decoded);
    }

    [Fact]
    public async Task Mock_ManyConcurrentStreams_EachCompleteAndSeparate()
    {
        await using var env = await TestEnv.StartAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 24).Select(async i =>
        {
            using var response = await env.Gateway.PostAsync("/v1/chat/completions",
                $$"""{"model":"mock-gpt","stream":true,"messages":[{"role":"user","content":"{{i}}"}]}""", requestId: $"rid-{i}");
            Assert.Equal($"rid-{i}", Http.Header(response, "x-request-id"));
            return Sse.Parse(await Http.ReadBodyAsync(response));
        }));

        Assert.All(results, events =>
        {
            Assert.Equal(8, events.Count);
            Assert.Equal("[DONE]", events[^1]);
            Assert.Equal(FiveTokens, string.Concat(events[1..6].Select(e => Delta(JsonDocument.Parse(e).RootElement).GetProperty("content").GetString())));
        });
        // Each stream keeps one id across its chunks, and no two streams share one.
        var ids = results.Select(events => events[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("id").GetString()).Distinct().Single()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    private static JsonElement Delta(JsonElement chunk) => chunk.GetProperty("choices")[0].GetProperty("delta");
}
