using System.Net;
using System.Net.Sockets;
using System.Text;
using Proxy.Http1;

namespace Proxy.Core.Tests.Http1;

/// <summary>
/// The gateway's HTTP/1.1 client against scripted servers: every framing at every byte split over one kept-alive
/// connection, reuse and its limits, the server's idle close, broken and hostile answers, TLS, and what goes to HTTP/2.
/// </summary>
public sealed class Http1HandlerTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    private static HttpMessageInvoker Client(int maxConnections = 0, HttpMessageHandler? http2 = null, bool trustTestCert = false) =>
        new(new Http1Handler(new Http1Options
        {
            MaxConnections = maxConnections,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            TestCertificateValidation = trustTestCert ? (_, _, _, _) => true : null,
        }, http2 ?? new RecordingHandler()));

    private static HttpRequestMessage Post(Uri url, string body = """{"model":"m"}""") => new(HttpMethod.Post, url)
    {
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Content = new StringContent(body, Encoding.UTF8, "application/json"),
    };

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMessageInvoker client, HttpRequestMessage request)
    {
        using var response = await client.SendAsync(request, CancellationToken.None).WaitAsync(Limit);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(Limit);
        return (response.StatusCode, body);
    }

    [Fact]
    public async Task A_content_length_answer_arrives_whole_at_every_byte_split_over_one_kept_alive_connection()
    {
        const string answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\nX-Extra: a b\r\n\r\n{\"id\":\"x\",\"object\":\"chat\"}\n";
        await using var server = new RawServer(async c =>
        {
            for (int at = 1; at < answer.Length; at++)
            {
                if (await c.ReadRequestAsync() is null) return;
                await c.WriteSplitAsync(answer, at);
            }
        });
        using var client = Client();
        for (int at = 1; at < answer.Length; at++)
        {
            using var response = await client.SendAsync(Post(server.Url()), CancellationToken.None).WaitAsync(Limit);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(27, response.Content.Headers.ContentLength);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("a b", Assert.Single(response.Headers.GetValues("X-Extra")));
            Assert.Equal("{\"id\":\"x\",\"object\":\"chat\"}\n", await response.Content.ReadAsStringAsync().WaitAsync(Limit));
        }
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task A_chunked_answer_with_extensions_and_trailers_arrives_whole_at_every_byte_split()
    {
        const string answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n"
            + "f;ext=1\r\ndata: {\"a\":1}\n\n\r\n" + "F\r\ndata: [DONE]\n\n\n\r\n" + "0\r\nX-Trailer: t\r\n\r\n";
        await using var server = new RawServer(async c =>
        {
            for (int at = 1; at < answer.Length; at++)
            {
                if (await c.ReadRequestAsync() is null) return;
                await c.WriteSplitAsync(answer, at);
            }
        });
        using var client = Client();
        for (int at = 1; at < answer.Length; at++)
        {
            HttpStatusCode status;
            string body;
            try
            {
                (status, body) = await SendAsync(client, Post(server.Url()));
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"split at {at}: {answer[..at]}|", e);
            }
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("data: {\"a\":1}\n\ndata: [DONE]\n\n\n", body);
        }
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task Streamed_chunks_reach_the_reader_one_by_one_as_they_arrive()
    {
        var next = new SemaphoreSlim(0);
        await using var server = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (int i = 0; i < 3; i++)
            {
                await next.WaitAsync();
                await c.WriteAsync($"7\r\nchunk {i}\r\n");
            }
            await c.WriteAsync("0\r\n\r\n");
        });
        using var client = Client();
        using var response = await client.SendAsync(Post(server.Url()), CancellationToken.None).WaitAsync(Limit);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64];
        for (int i = 0; i < 3; i++)
        {
            var read = stream.ReadAsync(buffer).AsTask();
            await Task.Delay(20);
            Assert.False(read.IsCompleted, "a read returned before its chunk was sent");
            next.Release();
            int n = await read.WaitAsync(Limit);
            Assert.Equal($"chunk {i}", Encoding.ASCII.GetString(buffer, 0, n));
        }
        Assert.Equal(0, await stream.ReadAsync(buffer).AsTask().WaitAsync(Limit));
    }

    [Fact]
    public async Task Zero_byte_reads_wait_for_data_without_consuming_it()
    {
        var release = new TaskCompletionSource();
        await using var server = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
            await release.Task;
            await c.WriteAsync("hello");
        });
        using var client = Client();
        using var response = await client.SendAsync(Post(server.Url()), CancellationToken.None).WaitAsync(Limit);
        var stream = await response.Content.ReadAsStreamAsync();
        var wait = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        await Task.Delay(20);
        Assert.False(wait.IsCompleted);
        release.SetResult();
        Assert.Equal(0, await wait.WaitAsync(Limit));
        var buffer = new byte[16];
        Assert.Equal(5, await stream.ReadAsync(buffer).AsTask().WaitAsync(Limit));
        Assert.Equal("hello", Encoding.ASCII.GetString(buffer, 0, 5));
    }

    [Fact]
    public async Task An_answer_without_a_length_runs_to_the_close_and_its_connection_is_not_reused()
    {
        await using var server = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it");
        });
        using var client = Client();
        Assert.Equal("all of it", (await SendAsync(client, Post(server.Url()))).Body);
        Assert.Equal("all of it", (await SendAsync(client, Post(server.Url()))).Body);
        Assert.Equal(2, server.Accepted);
    }

    [Fact]
    public async Task The_servers_connection_close_is_honoured()
    {
        await using var server = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
            // Keeps its end open: the client must close it, not wait for a second answer on it.
            await Task.Delay(2000);
        });
        using var client = Client();
        Assert.Equal("ok", (await SendAsync(client, Post(server.Url()))).Body);
        Assert.Equal("ok", (await SendAsync(client, Post(server.Url()))).Body);
        Assert.Equal(2, server.Accepted);
    }

    [Fact]
    public async Task A_kept_alive_connection_the_server_closed_while_idle_is_retried_once_on_a_new_one()
    {
        await using var server = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            // Its keep-alive timeout: closes without a Connection: close, as servers do.
        });
        using var client = Client();
        Assert.Equal("ok", (await SendAsync(client, Post(server.Url()))).Body);
        await Task.Delay(100); // the close reaches the client's idle connection
        Assert.Equal("ok", (await SendAsync(client, Post(server.Url()))).Body);
        Assert.Equal(2, server.Accepted);
    }

    [Fact]
    public async Task A_new_connection_closed_before_any_answer_fails_as_ended_without_a_retry()
    {
        await using var server = new RawServer(async c => await c.ReadRequestAsync());
        using var client = Client();
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Post(server.Url()), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(HttpRequestError.ResponseEnded, e.HttpRequestError);
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task A_body_cut_short_fails_the_read_as_ended_and_the_connection_is_dropped()
    {
        await using var server = new RawServer(async c =>
        {
            if (await c.ReadRequestAsync() is null) return;
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
        });
        using var client = Client();
        using var response = await client.SendAsync(Post(server.Url()), CancellationToken.None).WaitAsync(Limit);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[256];
        Assert.Equal(9, await stream.ReadAsync(buffer).AsTask().WaitAsync(Limit));
        var e = await Assert.ThrowsAsync<HttpIOException>(() => stream.ReadAsync(buffer).AsTask().WaitAsync(Limit));
        Assert.Equal(HttpRequestError.ResponseEnded, e.HttpRequestError);
    }

    [Theory]
    [InlineData("HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n", "status line")]
    [InlineData("HTTP/2 200\r\n\r\n", "status line")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", "Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n", "folded")]
    [InlineData("HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n", "whitespace")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", "longer than its size")]
    public async Task A_malformed_answer_is_an_invalid_response_that_names_the_fault(string answer, string fault)
    {
        await using var server = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync(answer);
            await Task.Delay(1000);
        });
        using var client = Client();
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => SendAsync(client, Post(server.Url())));
        Assert.Equal(HttpRequestError.InvalidResponse, e.HttpRequestError);
        Assert.Contains(fault, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Interim_100_continue_answers_are_skipped()
    {
        await using var server = new RawServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone");
        });
        using var client = Client();
        var (status, body) = await SendAsync(client, Post(server.Url()));
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("done", body);
    }

    [Fact]
    public async Task The_request_goes_out_as_one_well_formed_message()
    {
        string? seen = null;
        await using var server = new RawServer(async c =>
        {
            seen = await c.ReadRequestAsync();
            await c.WriteAsync("HTTP/1.1 204 No Content\r\n\r\n");
        });
        using var client = Client();
        var request = Post(new Uri($"http://127.0.0.1:{server.Port}/v1/chat/completions?x=1"), """{"model":"é"}""");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer sk-upstream");
        request.Headers.TryAddWithoutValidation("anthropic-beta", ["a", "b"]);
        var (status, _) = await SendAsync(client, request);
        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.NotNull(seen);
        var lines = seen!.Split("\r\n");
        Assert.Equal("POST /v1/chat/completions?x=1 HTTP/1.1", lines[0]);
        Assert.Equal($"Host: 127.0.0.1:{server.Port}", lines[1]);
        Assert.Contains("Authorization: Bearer sk-upstream", lines);
        Assert.Contains("anthropic-beta: a, b", lines);
        Assert.Contains("Content-Type: application/json; charset=utf-8", lines);
        Assert.Contains("Content-Length: 14", lines);
        Assert.Single(lines, l => l.StartsWith("Content-Length", StringComparison.Ordinal));
        Assert.EndsWith("\r\n\r\n{\"model\":\"\u00c3\u00a9\"}", seen, StringComparison.Ordinal); // UTF-8 bytes, read back as Latin-1
    }

    [Fact]
    public async Task A_header_value_with_a_line_break_is_refused_before_anything_is_sent()
    {
        await using var server = new RawServer(async c => await c.ReadRequestAsync());
        using var client = Client();
        var request = Post(server.Url());
        request.Headers.TryAddWithoutValidation("X-Forged", "a\r\nX-Injected: 1");
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(request, CancellationToken.None).WaitAsync(Limit));
        Assert.Contains("line break", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Accepted);
    }

    [Fact]
    public async Task At_the_connection_limit_requests_queue_for_the_next_free_connection()
    {
        int concurrent = 0, most = 0;
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                int now = Interlocked.Increment(ref concurrent);
                InterlockedMax(ref most, now);
                await Task.Delay(30);
                Interlocked.Decrement(ref concurrent);
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        });
        using var client = Client(maxConnections: 2);
        var all = Enumerable.Range(0, 8).Select(_ => SendAsync(client, Post(server.Url()))).ToArray();
        foreach (var r in await Task.WhenAll(all)) Assert.Equal("ok", r.Body);
        Assert.Equal(2, server.Accepted);
        Assert.True(most <= 2, $"{most} requests were at the server at once");
    }

    [Fact]
    public async Task A_request_that_gives_up_waiting_at_the_limit_leaves_the_queue()
    {
        var release = new TaskCompletionSource();
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                await release.Task;
                await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        });
        using var client = Client(maxConnections: 1);
        var first = SendAsync(client, Post(server.Url()));
        using var gaveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(Post(server.Url()), gaveUp.Token).WaitAsync(Limit));
        release.SetResult();
        Assert.Equal("ok", (await first).Body);
        Assert.Equal("ok", (await SendAsync(client, Post(server.Url()))).Body);
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task Disposing_an_answer_before_its_end_closes_its_connection()
    {
        await using var server = new RawServer(async c =>
        {
            if (await c.ReadRequestAsync() is null) return;
            await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf");
            await c.ReadRequestAsync(); // a reused connection would get its next request here and never answer
        });
        using var client = Client();
        using (await client.SendAsync(Post(server.Url()), CancellationToken.None).WaitAsync(Limit))
        {
        }
        using var cts = new CancellationTokenSource(Limit);
        using var second = client.SendAsync(Post(server.Url()), cts.Token);
        var response = await second;
        Assert.Equal(2, server.Accepted);
        response.Dispose();
    }

    [Fact]
    public async Task Cancelling_a_read_fails_it_and_drops_the_connection()
    {
        await using var server = new RawServer(async c =>
        {
            if (await c.ReadRequestAsync() is null) return;
            await c.WriteAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            await Task.Delay(5000);
        });
        using var client = Client();
        using var response = await client.SendAsync(Post(server.Url()), CancellationToken.None).WaitAsync(Limit);
        var stream = await response.Content.ReadAsStreamAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.ReadAsync(new byte[16], cts.Token).AsTask().WaitAsync(Limit));
        Assert.Equal(0, await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(Limit)); // detached: the connection is gone
    }

    [Fact]
    public async Task A_refused_connection_is_a_connection_error_carrying_the_socket_error()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        using var client = Client();
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Post(new Uri($"http://127.0.0.1:{port}/")), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(HttpRequestError.ConnectionError, e.HttpRequestError);
        Assert.Equal(SocketError.ConnectionRefused, Assert.IsType<SocketException>(e.InnerException).SocketErrorCode);
    }

    [Fact]
    public async Task Tls_carries_requests_over_a_kept_alive_connection_and_an_untrusted_certificate_is_refused()
    {
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
                await c.WriteAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        }, tls: true);
        using (var trusting = Client(trustTestCert: true))
        {
            Assert.Equal("hello", (await SendAsync(trusting, Post(server.Url()))).Body);
            Assert.Equal("hello", (await SendAsync(trusting, Post(server.Url()))).Body);
        }
        Assert.Equal(1, server.Accepted);

        using var verifying = Client();
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => SendAsync(verifying, Post(server.Url())));
        Assert.Equal(HttpRequestError.SecureConnectionError, e.HttpRequestError);
    }

    [Fact]
    public async Task Http2_over_tls_goes_to_the_http2_handler_and_plain_http_stays_http1()
    {
        var http2 = new RecordingHandler();
        await using var server = new RawServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null) await c.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        });
        using var client = Client(http2: http2);
        using var h2 = new HttpRequestMessage(HttpMethod.Post, "https://api.example.invalid/v1/x")
        {
            Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        using (await client.SendAsync(h2, CancellationToken.None))
        {
        }
        Assert.Equal(1, http2.Calls);

        var plain = Post(server.Url());
        plain.Version = HttpVersion.Version20;
        plain.VersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
        Assert.Equal("ok", (await SendAsync(client, plain)).Body);
        Assert.Equal(1, http2.Calls);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private sealed class RecordingHandler : HttpMessageHandler
    {
        public int Calls;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = request });
        }
    }
}
