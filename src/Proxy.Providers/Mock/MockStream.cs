using System.Text.Json;
using Proxy.Pipeline;

namespace Proxy.Providers.Mock;

/// <summary>
/// A streamed mock answer as OpenAI sends one: a role chunk, one chunk per token (paced), a finish chunk, the
/// usage chunk and [DONE]. Each read returns one whole event, produced when its time comes.
/// </summary>
internal sealed class MockStream(MockSettings settings, TimeProvider time, string id, long created, string model, int tokens, bool truncated, int promptTokens)
    : Stream
{
    private readonly PooledBuffer _event = new(512);
    private int _offset;
    private int _next; // 0 role, 1..tokens content, tokens+1 finish, tokens+2 usage, tokens+3 [DONE], then end

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_offset >= _event.Length)
        {
            if (_next > tokens + 3) return 0;
            await PaceAsync(cancellationToken);
            Produce();
        }
        int n = Math.Min(buffer.Length, _event.Length - _offset);
        _event.Span.Slice(_offset, n).CopyTo(buffer.Span);
        _offset += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private Task PaceAsync(CancellationToken ct)
    {
        var delay = _next == 1 ? settings.TimeToFirstToken
            : _next > 1 && _next <= tokens && settings.TokensPerSecond > 0 ? TimeSpan.FromSeconds(1 / settings.TokensPerSecond)
            : TimeSpan.Zero;
        return delay > TimeSpan.Zero ? Task.Delay(delay, time, ct) : Task.CompletedTask;
    }

    private void Produce()
    {
        _event.Clear();
        _offset = 0;
        int i = _next++;
        if (i == tokens + 3)
        {
            "data: [DONE]\n\n"u8.CopyTo(_event.GetSpan(14));
            _event.Advance(14);
            return;
        }
        "data: "u8.CopyTo(_event.GetSpan(6));
        _event.Advance(6);
        using (var w = new Utf8JsonWriter(_event, Errors.JsonOutput.Options))
        {
            w.WriteStartObject();
            w.WriteString("id"u8, id);
            w.WriteString("object"u8, "chat.completion.chunk"u8);
            w.WriteNumber("created"u8, created);
            w.WriteString("model"u8, model);
            w.WriteString("system_fingerprint"u8, "mock"u8);
            w.WriteStartArray("choices"u8);
            if (i <= tokens + 1) WriteChoice(w, i);
            w.WriteEndArray();
            // With include_usage (the gateway always asks) every chunk carries usage: null and the last one the numbers.
            if (i == tokens + 2) WriteUsage(w, promptTokens, tokens);
            else w.WriteNull("usage"u8);
            w.WriteEndObject();
        }
        "\n\n"u8.CopyTo(_event.GetSpan(2));
        _event.Advance(2);
    }

    private void WriteChoice(Utf8JsonWriter w, int i)
    {
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        w.WriteStartObject("delta"u8);
        if (i == 0)
        {
            w.WriteString("role"u8, "assistant"u8);
            w.WriteString("content"u8, ""u8);
        }
        else if (i <= tokens) w.WriteString("content"u8, MockText.Token(i - 1));
        w.WriteEndObject();
        w.WriteNull("logprobs"u8);
        if (i == tokens + 1) w.WriteString("finish_reason"u8, truncated ? "length"u8 : "stop"u8);
        else w.WriteNull("finish_reason"u8);
        w.WriteEndObject();
    }

    public static void WriteUsage(Utf8JsonWriter w, int promptTokens, int completionTokens)
    {
        w.WriteStartObject("usage"u8);
        w.WriteNumber("prompt_tokens"u8, promptTokens);
        w.WriteNumber("completion_tokens"u8, completionTokens);
        w.WriteNumber("total_tokens"u8, promptTokens + completionTokens);
        w.WriteEndObject();
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _event.Dispose();
        base.Dispose(disposing);
    }
}
