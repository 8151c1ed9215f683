using System.Net;
using System.Net.Sockets;

namespace Proxy.Functional.Tests.Fixtures;

/// <summary>The YAML configs the tests run the gateway with.</summary>
public static class TestConfig
{
    public const int MaxBodyBytes = 1024;

    /// <summary>
    /// Provider <c>up</c> (the fake OpenAI upstream, credential from the environment), provider <c>mock</c> (5 tokens),
    /// routes <c>gpt-test</c> (renamed to upstream-model), <c>same-name</c>, <c>mock-gpt</c>; keys <c>all</c> and <c>limited</c>.
    /// Timeouts are roomy so a busy machine never trips them; the tests about timeouts pass short ones.
    /// </summary>
    public static string Standard(string upstreamBaseUrl, string extraRoutes = "", string firstByteTimeout = "5s", string idleTimeout = "5s") => $$"""
        server:
          max_body_bytes: {{MaxBodyBytes}}
        providers:
          up:
            type: openai
            base_url: {{upstreamBaseUrl}}
            api_key: ${{{TestKeys.UpstreamSecretEnvVar}}}
            connect_timeout: 2s
            first_byte_timeout: {{firstByteTimeout}}
            idle_timeout: {{idleTimeout}}
          mock:
            type: mock
            completion_tokens: 5
        routes:
          gpt-test: { provider: up, model: upstream-model }
          same-name: { provider: up }
          mock-gpt: { provider: mock, model: mock-1 }
        {{extraRoutes}}
        keys:
          - id: all
            hash: {{TestKeys.Hash(TestKeys.All)}}
          - id: limited
            hash: {{TestKeys.Hash(TestKeys.Limited)}}
            routes: [mock-gpt]
        """;

    /// <summary>A port nothing listens on (bound, then released).</summary>
    /// <summary>
    /// A loopback port that refuses connections for as long as the returned socket lives: it is bound but never
    /// listens, so no test running in parallel can take it (a freed port can be reused at once).
    /// </summary>
    public static Socket ClosedPort(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }
}
