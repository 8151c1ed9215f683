using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Proxy.Logging.Tests;

public class RecordWriterTests
{
    private static JsonElement Write(Proxy.Accounting.RequestRecord record, out string line)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new RecordWriter("inst-1");
        writer.WriteLine(record, buffer);
        line = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.EndsWith("\n", line);
        Assert.Equal(1, line.Count(c => c == '\n'));
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    [Fact]
    public void Writes_every_documented_field()
    {
        var started = new DateTimeOffset(2026, 3, 4, 5, 6, 7, 890, TimeSpan.FromHours(2));
        var root = Write(T.Record(7, started), out _);

        Assert.Equal(1, root.GetProperty("schema_version").GetInt32());
        Assert.Equal("req-00000007", root.GetProperty("request_id").GetString());
        Assert.Equal("2026-03-04T03:06:07.89Z", root.GetProperty("started_at").GetString());
        Assert.Equal("chat.completions", root.GetProperty("operation").GetString());
        Assert.Equal("key-1", root.GetProperty("key_id").GetString());
        Assert.Equal("gpt-test", root.GetProperty("route").GetString());
        Assert.Equal("openai", root.GetProperty("provider").GetString());
        Assert.Equal("gpt-4o-mini", root.GetProperty("upstream_model").GetString());
        Assert.Equal(200, root.GetProperty("status").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("error_class").ValueKind);
        Assert.False(root.GetProperty("stream").GetBoolean());
        var usage = root.GetProperty("usage");
        Assert.Equal(17, usage.GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(20, usage.GetProperty("completion_tokens").GetInt64());
        Assert.Equal(3, usage.GetProperty("cached_tokens").GetInt64());
        Assert.True(usage.GetProperty("reported").GetBoolean());
        Assert.Equal(1, root.GetProperty("attempts").GetInt32());
        var latency = root.GetProperty("latency_us");
        Assert.Equal(1500, latency.GetProperty("total").GetInt64());
        Assert.Equal(1000, latency.GetProperty("upstream_ttfb").GetInt64());
        Assert.Equal(1100, latency.GetProperty("ttft").GetInt64());
        Assert.Equal(120, latency.GetProperty("gateway_overhead").GetInt64());
        Assert.Equal(JsonValueKind.Object, root.GetProperty("request_body").ValueKind);
        Assert.Equal("gpt-test", root.GetProperty("request_body").GetProperty("model").GetString());
        Assert.Equal(JsonValueKind.String, root.GetProperty("response_body").ValueKind);
        Assert.StartsWith("data: {\"x\":1}", root.GetProperty("response_body").GetString());
        Assert.False(root.GetProperty("bodies_truncated").GetBoolean());
        Assert.Equal("inst-1", root.GetProperty("instance").GetString());
    }

    [Fact]
    public void Empty_bodies_are_omitted_and_nulls_written()
    {
        var record = new Proxy.Accounting.RequestRecord
        {
            RequestId = "r",
            StartedAt = DateTimeOffset.UnixEpoch,
            Operation = "models",
            Status = 401,
            ErrorClass = "authentication_error",
        };
        var root = Write(record, out _);
        Assert.False(root.TryGetProperty("request_body", out _));
        Assert.False(root.TryGetProperty("response_body", out _));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("key_id").ValueKind);
        Assert.Equal("authentication_error", root.GetProperty("error_class").GetString());
        Assert.Equal("1970-01-01T00:00:00Z", root.GetProperty("started_at").GetString());
    }

    [Fact]
    public void Routing_fields_and_failed_attempts_are_written()
    {
        var record = new Proxy.Accounting.RequestRecord
        {
            RequestId = "r",
            StartedAt = DateTimeOffset.UnixEpoch,
            Operation = "chat.completions",
            Provider = "azure-eu",
            Region = "eu-west-1",
            Status = 503,
            ErrorClass = "upstream_error",
            UpstreamError = "server_error",
            Attempts = 3,
            FailedAttempts =
            [
                new() { Provider = "openai", UpstreamModel = "gpt-4o", Error = "first_byte_timeout", DurationUs = 300_000, Next = "fallback" },
                new() { Provider = "azure-eu", UpstreamModel = "gpt-4o-eu", Region = "eu-west-1", Error = "rate_limited", UpstreamStatus = 429, DurationUs = 1200, Next = "retry", DelayUs = 1_000_000 },
            ],
        };
        var root = Write(record, out _);
        Assert.Equal("eu-west-1", root.GetProperty("region").GetString());
        Assert.Equal("server_error", root.GetProperty("upstream_error").GetString());
        Assert.Equal(3, root.GetProperty("attempts").GetInt32());
        var failed = root.GetProperty("failed_attempts").EnumerateArray().ToList();
        Assert.Equal(2, failed.Count);
        Assert.Equal(["provider", "upstream_model", "region", "error", "upstream_status", "duration_us", "next", "delay_us"],
            failed[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, failed[0].GetProperty("region").ValueKind);
        Assert.Equal("first_byte_timeout", failed[0].GetProperty("error").GetString());
        Assert.Equal(0, failed[0].GetProperty("upstream_status").GetInt32());
        Assert.Equal("retry", failed[1].GetProperty("next").GetString());
        Assert.Equal(429, failed[1].GetProperty("upstream_status").GetInt32());
        Assert.Equal(1_000_000, failed[1].GetProperty("delay_us").GetInt64());
    }

    [Fact]
    public void Pretty_printed_json_body_stays_on_one_line_and_stays_json()
    {
        var root = Write(T.Record(1, requestBody: "{\n  \"model\": \"m\",\n  \"n\": [1,\r\n 2]\n}\n"), out var line);
        Assert.Equal("m", root.GetProperty("request_body").GetProperty("model").GetString());
        Assert.Equal(2, root.GetProperty("request_body").GetProperty("n").GetArrayLength());
        Assert.Equal(line.Length - 1, line.IndexOf('\n'));
    }

    [Fact]
    public void Truncated_or_invalid_bodies_become_strings()
    {
        // A JSON body cut at the byte cap, in the middle of a multi-byte character.
        var cut = Encoding.UTF8.GetBytes("{\"content\":\"h\u00e9llo")[..^4];
        var withCut = new Proxy.Accounting.RequestRecord
        {
            RequestId = "r",
            StartedAt = DateTimeOffset.UtcNow,
            Operation = "chat.completions",
            RequestBody = cut,
            ResponseBody = new byte[] { 0xff, 0xfe, (byte)'a' },
            BodiesTruncated = true,
        };
        var root = Write(withCut, out _);
        Assert.Equal(JsonValueKind.String, root.GetProperty("request_body").ValueKind);
        Assert.StartsWith("{\"content\":\"h", root.GetProperty("request_body").GetString());
        Assert.Equal("\ufffd\ufffda", root.GetProperty("response_body").GetString());
        Assert.True(root.GetProperty("bodies_truncated").GetBoolean());
    }

    [Fact]
    public void Relaxed_escaping_keeps_text_readable()
    {
        Write(T.Record(1, responseBody: "caf\u00e9 <b> + 'x'"), out var line);
        Assert.Contains("caf\u00e9 <b> + 'x'", line);
    }
}
