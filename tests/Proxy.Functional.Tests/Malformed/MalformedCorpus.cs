using System.Text;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Malformed;

/// <summary>
/// One malformed request: its bytes on the wire (given the x-request-id to send), how the client ends it, and what
/// the gateway must answer and record. <see cref="Status"/> 499 means no answer: the client left.
/// </summary>
public sealed record MalformedCase(Func<string, byte[]> Request, RawEnding Ending, int Status, string ErrorClass,
    string? Code = null, string? Param = null, string? MessageContains = null);

/// <summary>
/// The corpus: invalid UTF-8 in every position, encoded and escaped lone surrogates, overlong forms, cut-off
/// sequences, wrong field types, broken JSON, unsupported content types, broken chunked framing, bodies cut off by
/// a client that closes or resets. Every model names <c>gpt-test</c> (the fake upstream), so a request that got
/// through would be seen there.
/// </summary>
public static class MalformedCorpus
{
    private const string Chat = "/v1/chat/completions";
    private const string Invalid = "invalid_request_error";
    private const string BadBody = "invalid_request_body";
    private const string UserOpen = "{\"model\":\"gpt-test\",\"messages\":[],\"user\":\"";

    public static IReadOnlyDictionary<string, MalformedCase> Cases { get; } = Build();

    public static TheoryData<string> Names => [.. Cases.Keys];

    private static Dictionary<string, MalformedCase> Build()
    {
        var cases = new Dictionary<string, MalformedCase>(StringComparer.Ordinal);

        // Invalid UTF-8: the offset is where the bad bytes start.
        void Utf8(string name, string before, byte[] bad, string after) =>
            cases[name] = Json(Bytes(before, bad, after), 400, code: BadBody, message: $"not valid UTF-8: byte {Encoding.UTF8.GetByteCount(before)} (0x{bad[0]:X2})");
        Utf8("utf8-model-value", """{"model":"gpt-test""", [0xFF], "\",\"messages\":[]}");
        Utf8("utf8-model-value-encoded-surrogate", """{"model":"gpt-""", [0xED, 0xA0, 0x80], "test\",\"messages\":[]}");
        Utf8("utf8-model-value-overlong", """{"model":"gpt""", [0xC1, 0xBF], "-test\"}");
        Utf8("utf8-model-key", """{"mo""", [0xC3], "del\":\"gpt-test\",\"messages\":[]}");
        Utf8("utf8-other-key", """{"model":"gpt-test","messa""", [0x80], "ges\":[]}");
        Utf8("utf8-other-value", """{"model":"gpt-test","messages":[],"user":"u""", [0xFE], "\"}");
        Utf8("utf8-nested-value-overlong-2", """{"model":"gpt-test","messages":[{"role":"user","content":[{"type":"text","text":"a""", [0xC0, 0xAF], "\"}]}]}");
        Utf8("utf8-nested-key-overlong-3", """{"model":"gpt-test","messages":[{"ro""", [0xE0, 0x80, 0xAF], "le\":\"user\",\"content\":\"x\"}]}");
        Utf8("utf8-overlong-4", UserOpen, [0xF0, 0x80, 0x80, 0xAF], "\"}");
        Utf8("utf8-encoded-low-surrogate", """{"model":"gpt-test","messages":[{"role":"user","content":"a""", [0xED, 0xB0, 0x80], "\"}]}");
        Utf8("utf8-above-u10ffff", UserOpen, [0xF4, 0x90, 0x80, 0x80], "\"}");
        Utf8("utf8-very-start", "", [0x80], """{"model":"gpt-test","messages":[]}""");
        Utf8("utf8-very-end", """{"model":"gpt-test","messages":[]}""", [0xC3], "");
        Utf8("utf8-cut-off-3-byte-at-end", UserOpen, [0xE2, 0x82], "");
        Utf8("utf8-cut-off-4-byte-at-end", UserOpen, [0xF0, 0x9F, 0x98], "");

        // Escapes that leave a UTF-16 surrogate unpaired: the offset is the escape's backslash.
        void Escape(string name, string json, string escape) =>
            cases[name] = Json(Encoding.UTF8.GetBytes(json), 400, code: BadBody, message: $"'{escape}' at byte {json.IndexOf(escape, StringComparison.Ordinal)}");
        Escape("escape-model-value-high", """{"model":"gpt-test\ud800","messages":[]}""", "\\ud800");
        Escape("escape-model-value-low", """{"model":"\udc00gpt-test","messages":[]}""", "\\udc00");
        Escape("escape-key", """{"model":"gpt-test","\uD800x":1}""", "\\uD800");
        Escape("escape-value-high-then-text", """{"model":"gpt-test","messages":[{"role":"user","content":"a\ud83dz"}]}""", "\\ud83d");
        Escape("escape-value-high-then-high", """{"model":"gpt-test","messages":[],"user":"\udbff\udbff"}""", "\\udbff");
        Escape("escape-nested", """{"model":"gpt-test","messages":[],"x":[[{"k":"\udfff"}]]}""", "\\udfff");

        // Fields the gateway reads, of the wrong type.
        void Type(string name, string json, string param, string message) => cases[name] = Json(Encoding.UTF8.GetBytes(json), 400, code: BadBody, param: param, message: message);
        Type("type-model-number", """{"model":42,"messages":[]}""", "model", "'model' must be a string");
        Type("type-model-object", """{"model":{"name":"gpt-test"},"messages":[]}""", "model", "'model' must be a string");
        Type("type-model-array", """{"model":["gpt-test"],"messages":[]}""", "model", "'model' must be a string");
        Type("type-model-null", """{"model":null,"messages":[]}""", "model", "'model' must be a string");
        Type("type-model-bool", """{"model":true,"messages":[]}""", "model", "'model' must be a string");
        Type("type-stream-string", """{"model":"gpt-test","stream":"true","messages":[]}""", "stream", "'stream' must be a boolean");
        Type("type-stream-number", """{"model":"gpt-test","stream":1,"messages":[]}""", "stream", "'stream' must be a boolean");
        Type("type-max-tokens-string", """{"model":"gpt-test","max_tokens":"10","messages":[]}""", "max_tokens", "positive integer");
        Type("type-max-tokens-fraction", """{"model":"gpt-test","max_tokens":1.5,"messages":[]}""", "max_tokens", "positive integer");
        Type("type-max-tokens-negative", """{"model":"gpt-test","max_tokens":-1,"messages":[]}""", "max_tokens", "positive integer");
        Type("type-max-tokens-too-large", """{"model":"gpt-test","max_tokens":99999999999,"messages":[]}""", "max_tokens", "positive integer");
        Type("type-max-completion-tokens-object", """{"model":"gpt-test","max_completion_tokens":{},"messages":[]}""", "max_completion_tokens", "positive integer");
        Type("type-stream-options-string", """{"model":"gpt-test","stream_options":"yes","messages":[]}""", "stream_options", "must be an object");

        // Not JSON, or not the JSON object a request is.
        cases["json-not-json"] = Json("hello"u8.ToArray(), 400, code: BadBody, message: "not valid JSON");
        cases["json-empty"] = Json([], 400, code: BadBody);
        cases["json-cut-off"] = Json("""{"model":"gpt-test","messages":["""u8.ToArray(), 400, code: BadBody, message: "not valid JSON");
        cases["json-trailing-data"] = Json("""{"model":"gpt-test","messages":[]} x"""u8.ToArray(), 400, code: BadBody);
        cases["json-array"] = Json("""["gpt-test"]"""u8.ToArray(), 400, code: BadBody, message: "must be a JSON object");
        cases["json-comment"] = Json("""{"model":"gpt-test" /* c */,"messages":[]}"""u8.ToArray(), 400, code: BadBody, message: "not valid JSON");
        cases["json-duplicate-model"] = Json("""{"model":"mock-gpt","model":"gpt-test"}"""u8.ToArray(), 400, code: BadBody, param: "model", message: "more than once");
        cases["json-no-model"] = Json("""{"messages":[]}"""u8.ToArray(), 400, code: "missing_model", param: "model");

        // A JSON body declared as something else.
        foreach (var (name, type) in new[]
        {
            ("ct-text-plain", "text/plain"), ("ct-text-plain-charset", "text/plain; charset=utf-8"),
            ("ct-form", "application/x-www-form-urlencoded"), ("ct-multipart", "multipart/form-data; boundary=x"),
            ("ct-xml", "application/xml"), ("ct-json-seq", "application/json-seq"),
        })
        {
            cases[name] = Json("""{"model":"gpt-test","messages":[]}"""u8.ToArray(), 415, code: "unsupported_media_type",
                message: $"Content-Type '{type}' is not supported", contentType: type);
        }

        // Broken chunked framing, which HttpClient cannot send: the body cannot be read, a 400.
        void Chunked(string name, string chunks) => cases[name] = new MalformedCase(
            id => [.. Head(id, "Transfer-Encoding: chunked", "Connection: close"), .. Encoding.ASCII.GetBytes(chunks)],
            RawEnding.ReadAnswer, 400, Invalid, BadBody, MessageContains: "could not be read");
        Chunked("chunk-size-overflows", "10000000000000000000000\r\n{}\r\n0\r\n\r\n"); // 2^88
        Chunked("chunk-size-not-hex", "zz\r\n{}\r\n0\r\n\r\n");
        Chunked("chunk-size-negative", "-2\r\n{}\r\n0\r\n\r\n");
        Chunked("chunk-data-without-crlf", "2\r\n{}XX0\r\n\r\n");

        // Bodies the client gives up on: no answer reaches it, and the request is recorded as the client's leaving.
        const string Part = """{"model":"gpt-test","messages":[{"role":"user","content":"a long""";
        cases["gone-content-length-cut-off-then-close"] = Gone(id => [.. Head(id, "Content-Length: 500"), .. Encoding.UTF8.GetBytes(Part)], RawEnding.Close);
        cases["gone-content-length-reset-mid-body"] = Gone(id => [.. Head(id, "Content-Length: 500"), .. Encoding.UTF8.GetBytes(Part)], RawEnding.Reset);
        cases["gone-chunked-cut-off-then-close"] = Gone(id => [.. Head(id, "Transfer-Encoding: chunked"), .. Encoding.UTF8.GetBytes($"1f4\r\n{Part}")], RawEnding.Close);
        cases["gone-chunked-reset-mid-chunk"] = Gone(id => [.. Head(id, "Transfer-Encoding: chunked"), .. Encoding.UTF8.GetBytes($"1f4\r\n{Part}")], RawEnding.Reset);
        return cases;
    }

    private static MalformedCase Json(byte[] body, int status, string code, string? param = null, string? message = null, string contentType = "application/json") =>
        new(id => [.. Head(id, $"Content-Type: {contentType}", $"Content-Length: {body.Length}", "Connection: close"), .. body],
            RawEnding.ReadAnswer, status, Invalid, code, param, message);

    private static MalformedCase Gone(Func<string, byte[]> request, RawEnding ending) => new(request, ending, 499, "client_closed");

    private static byte[] Head(string requestId, params string[] headers) =>
        RawHttp.Head(Chat, [$"Authorization: Bearer {TestKeys.All}", $"x-request-id: {requestId}", .. headers]);

    private static byte[] Bytes(string before, byte[] bad, string after) => [.. Encoding.UTF8.GetBytes(before), .. bad, .. Encoding.UTF8.GetBytes(after)];
}
