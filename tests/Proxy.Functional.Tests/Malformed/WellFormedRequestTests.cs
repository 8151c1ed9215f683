using System.Net.Http.Headers;
using System.Text;
using Proxy.Functional.Tests.Fixtures;

namespace Proxy.Functional.Tests.Malformed;

/// <summary>The other side of the corpus: what is valid passes, byte for byte, however it is declared.</summary>
public sealed class WellFormedRequestTests
{
    private const string Chat = "/v1/chat/completions";

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON;charset=UTF-8")]
    [InlineData(null)] // many clients send none
    public async Task ValidUnicode_IsForwardedUnchanged_WhateverJsonContentType(string? contentType)
    {
        await using var env = await TestEnv.StartAsync();
        env.Upstream.Handler = ctx => Upstream.Json(ctx, 200, Upstream.Completion);
        // Raw multi-byte UTF-8, a surrogate pair as escapes (upper and lower case), the text \ud800 behind an escaped
        // backslash, a BMP escape: all valid, so all of it reaches the upstream as sent (same-name: no model splice).
        var body = Encoding.UTF8.GetBytes("""{"model":"same-name","messages":[{"role":"user","content":"héllo € 😀 日本 \ud83d\ude00 \uD83D\uDE00 \\ud800 \u00e9"}]}""");
        using var request = env.Gateway.Request(HttpMethod.Post, Chat);
        request.Content = new ByteArrayContent(body);
        if (contentType is not null) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        using var response = await env.Gateway.Client.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
        var received = await env.Upstream.FirstRequest();
        Assert.Equal(body, received.Body);
    }
}
