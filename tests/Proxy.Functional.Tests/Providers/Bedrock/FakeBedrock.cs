using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Providers.Tests.Bedrock;

namespace Proxy.Functional.Tests.Providers.Bedrock;

/// <summary>One Converse call the fake accepted: which model and operation, who signed it, and the body.</summary>
public sealed record BedrockCall(string ModelId, string Operation, string AccessKeyId, string? SessionToken, JsonElement Body);

/// <summary>
/// A fake bedrock-runtime on loopback that checks every request as AWS would: it recomputes the SigV4 signature
/// independently with AWSSDK.Core's signer (the request rebuilt as the SDK's Bedrock marshaller would build it, from
/// the decoded model id) for the credentials it knows, checks x-amz-date skew, the payload hash and the session
/// token, and answers 403 InvalidSignatureException / UnrecognizedClientException like AWS on any mismatch.
/// </summary>
public sealed class FakeBedrock : IAsyncDisposable
{
    public const string Region = "us-east-1";

    private readonly FakeUpstream _upstream;
    private readonly ConcurrentDictionary<string, (string Secret, string? Token)> _keys = new();
    private readonly ConcurrentQueue<BedrockCall> _calls = new();
    private int _rejected;

    private FakeBedrock(FakeUpstream upstream)
    {
        _upstream = upstream;
        upstream.Handler = HandleAsync;
    }

    /// <summary>Answers a verified call; the default says "Hello from Bedrock" (plain or streamed).</summary>
    public Func<BedrockCall, HttpContext, Task> Answer { get; set; } = (call, ctx) =>
        call.Operation == "converse" ? Converse(ctx, Text("Hello from Bedrock")) : Stream(ctx, TextStream("Hello", " from", " Bedrock"));

    /// <summary>http://127.0.0.1:PORT, the base_url the gateway's bedrock provider is configured with.</summary>
    public string BaseUrl => _upstream.BaseUrl[..^"/v1".Length];

    public IReadOnlyCollection<BedrockCall> Calls => _calls;

    /// <summary>Requests refused for a bad signature or unknown credentials.</summary>
    public int Rejected => Volatile.Read(ref _rejected);

    public static async Task<FakeBedrock> StartAsync() => new(await FakeUpstream.StartAsync());

    /// <summary>A Bedrock API key AWS would accept (sent as a bearer token instead of a signature).</summary>
    public void AcceptApiKey(string key) => _keys["Bearer " + key] = ("", null);

    /// <summary>Credentials AWS would accept (a session token must then come with them).</summary>
    public void Accept(string accessKeyId, string secret, string? sessionToken = null) => _keys[accessKeyId] = (secret, sessionToken);

    private async Task HandleAsync(HttpContext ctx)
    {
        var body = FakeUpstream.Recorded(ctx).Body;
        var (call, error, type) = Verify(ctx, body);
        if (call is null)
        {
            Interlocked.Increment(ref _rejected);
            await Upstream.Json(ctx, 403, JsonSerializer.Serialize(new Dictionary<string, string> { ["message"] = error! }), ("x-amzn-ErrorType", type!));
            return;
        }
        _calls.Enqueue(call);
        await Answer(call, ctx);
    }

    private (BedrockCall? Call, string? Error, string? Type) Verify(HttpContext ctx, byte[] body)
    {
        var headers = ctx.Request.Headers;
        var authorization = headers.Authorization.ToString();
        const string prefix = "AWS4-HMAC-SHA256 Credential=";
        if (authorization.StartsWith("Bearer ", StringComparison.Ordinal) && _keys.ContainsKey(authorization))
        {
            using var bearerBody = JsonDocument.Parse(body);
            var path = ctx.Features.Get<IHttpRequestFeature>()!.RawTarget.Split('/');
            return (new BedrockCall(Uri.UnescapeDataString(path[2]), path[3], "bearer", null, bearerBody.RootElement.Clone()), null, null);
        }
        if (!authorization.StartsWith(prefix, StringComparison.Ordinal))
            return (null, "Missing Authentication Token", "MissingAuthenticationTokenException");
        var credential = authorization[prefix.Length..authorization.IndexOf(',', StringComparison.Ordinal)];
        var scope = credential.Split('/');
        var signedHeaders = authorization[(authorization.IndexOf("SignedHeaders=", StringComparison.Ordinal) + 14)..].Split(',')[0].Split(';');
        if (!_keys.TryGetValue(scope[0], out var key))
            return (null, "The security token included in the request is invalid.", "UnrecognizedClientException");
        var token = headers["X-Amz-Security-Token"].ToString();
        if ((key.Token ?? "") != token || (key.Token is not null && !signedHeaders.Contains("x-amz-security-token")))
            return (null, "The security token included in the request is invalid.", "UnrecognizedClientException");
        if (scope[2] != Region || scope[3] != "bedrock")
            return (null, $"Credential should be scoped to a valid region and to the bedrock service, not '{scope[2]}/{scope[3]}'.", "InvalidSignatureException");

        var amzDate = headers["X-Amz-Date"].ToString();
        var signedAt = DateTime.ParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        if (Math.Abs((DateTime.UtcNow - signedAt).TotalMinutes) > 5)
            return (null, "Signature expired: " + amzDate, "InvalidSignatureException");
        if (headers["X-Amz-Content-SHA256"].ToString() != Convert.ToHexStringLower(SHA256.HashData(body)))
            return (null, "The provided 'x-amz-content-sha256' header does not match what was computed.", "InvalidSignatureException");

        // The path as it arrived on the wire: /model/{escaped model id}/{converse|converse-stream}.
        var raw = ctx.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var segments = raw.Split('/');
        if (segments.Length != 4 || segments[1] != "model") return (null, "Unknown operation " + raw, "UnknownOperationException");
        var modelId = Uri.UnescapeDataString(segments[2]);
        var operation = segments[3];

        var sdk = new DefaultRequest(new SdkRequest(), "BedrockRuntime")
        {
            HttpMethod = ctx.Request.Method,
            Endpoint = new Uri("http://" + headers.Host),
            ResourcePath = "/model/{modelId}/" + operation,
            Content = body,
        };
        sdk.AddPathResource("{modelId}", modelId);
        foreach (var name in signedHeaders)
        {
            if (name is "host" or "x-amz-date" or "x-amz-content-sha256") continue;
            sdk.Headers[name] = headers[name].ToString();
        }
        var config = new Amazon.SecurityToken.AmazonSecurityTokenServiceConfig { AuthenticationServiceName = "bedrock", AuthenticationRegion = Region };
        var expected = new AWS4Signer().SignRequest(sdk, config, null, scope[0], key.Secret, signedAt).ForAuthorizationHeader;
        if (expected != authorization)
            return (null, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
                "InvalidSignatureException");

        using var doc = JsonDocument.Parse(body);
        return (new BedrockCall(modelId, operation, scope[0], key.Token, doc.RootElement.Clone()), null, null);
    }

    public static string Text(string text, string stopReason = "end_turn") =>
        "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[{\"text\":" + JsonSerializer.Serialize(text) + "}]}},\"stopReason\":\"" + stopReason +
        "\",\"usage\":{\"inputTokens\":11,\"outputTokens\":4,\"totalTokens\":15},\"metrics\":{\"latencyMs\":120}}";

    public static Task Converse(HttpContext ctx, string json) => Upstream.Json(ctx, 200, json, ("x-amzn-RequestId", Guid.NewGuid().ToString()));

    /// <summary>messageStart, one delta per piece, stop, metadata: what Bedrock sends for a text answer.</summary>
    public static byte[][] TextStream(params string[] pieces)
    {
        var frames = new List<byte[]> { EventStreamEncoder.Event("messageStart", """{"p":"abcdefgh","role":"assistant"}""") };
        foreach (var piece in pieces)
            frames.Add(EventStreamEncoder.Event("contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":" + JsonSerializer.Serialize(piece) + "},\"p\":\"abcd\"}"));
        frames.Add(EventStreamEncoder.Event("contentBlockStop", """{"contentBlockIndex":0,"p":"abcdefghijk"}"""));
        frames.Add(EventStreamEncoder.Event("messageStop", """{"p":"ab","stopReason":"end_turn"}"""));
        frames.Add(EventStreamEncoder.Event("metadata", """{"metrics":{"latencyMs":300},"p":"abc","usage":{"inputTokens":11,"outputTokens":3,"totalTokens":14}}"""));
        return [.. frames];
    }

    /// <summary>Writes the frames as Bedrock does, each flushed on its own (so the gateway sees them arrive one by one).</summary>
    public static async Task Stream(HttpContext ctx, IEnumerable<byte[]> frames)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/vnd.amazon.eventstream";
        ctx.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        foreach (var frame in frames)
        {
            await ctx.Response.Body.WriteAsync(frame, ctx.RequestAborted);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
        }
    }

    public ValueTask DisposeAsync() => _upstream.DisposeAsync();

    private sealed class SdkRequest : AmazonWebServiceRequest;
}
