using System.Collections.Concurrent;
using System.Diagnostics;
using Proxy.Functional.Tests.Fixtures;
using Proxy.Tests.Common;
using static Proxy.Functional.Tests.ControlPlane.ControlPlaneCluster;

namespace Proxy.Functional.Tests.ControlPlane;

/// <summary>
/// The control plane with real parts: two gateway processes on one real PostgreSQL. A key made on one replica works
/// on the other within a second, a revoked one is refused by both within a second, a route change moves traffic within
/// a second without a failed request; Postgres stopped mid-load fails and slows nothing, the admin API answers 503,
/// a replica restarted during the outage starts from its snapshot, and the replicas are back in step once it returns.
/// No secret is readable back anywhere.
/// </summary>
[Collection(nameof(Heavy))]
public sealed class ControlPlaneTests(Xunit.Abstractions.ITestOutputHelper output, PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    private static readonly TimeSpan InStep = TimeSpan.FromSeconds(1);

    private PostgresServer _pg => fixture.Server;

    private static async Task SeedAsync(ControlPlaneCluster c)
    {
        Assert.Equal(201, (await SendAsync(c.Admin[0], HttpMethod.Put, "/admin/v1/providers/mock-a", $$"""{"type":"mock","api_key":"{{ProviderSecret}}"}""")).Status);
        Assert.Equal(201, (await SendAsync(c.Admin[0], HttpMethod.Put, "/admin/v1/providers/mock-b", """{"type":"mock"}""")).Status);
        Assert.Equal(201, (await SendAsync(c.Admin[0], HttpMethod.Put, "/admin/v1/routes/chat", """{"provider":"mock-a"}""")).Status);
    }

    /// <summary>How long until <paramref name="check"/> holds, polling every 20 ms, failing after 10 s.</summary>
    private static async Task<TimeSpan> UntilAsync(Func<Task<bool>> check, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!await check())
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(10)) throw new Xunit.Sdk.XunitException($"{what}: not within 10 s");
            await Task.Delay(20);
        }
        return sw.Elapsed;
    }

    [Fact]
    public async Task A_key_made_on_one_replica_works_on_the_other_within_a_second_and_a_revoked_one_fails_on_both()
    {
        await using var c = await ControlPlaneCluster.StartAsync(_pg, replicas: 2);
        await SeedAsync(c);
        var made = await SendAsync(c.Admin[0], HttpMethod.Post, "/admin/v1/keys", """{"id":"app-1","routes":["chat"]}""");
        Assert.Equal(201, made.Status);
        var key = (string)made.Body!["key"]!;
        var onB = await UntilAsync(async () => (await c.ChatAsync(1, key)).Status == 200, "the new key on replica B");
        output.WriteLine($"key accepted by replica B {onB.TotalMilliseconds:0} ms after replica A made it");
        Assert.True(onB <= InStep, $"replica B took {onB.TotalMilliseconds:0} ms");
        Assert.Equal(200, (await c.ChatAsync(0, key)).Status);

        Assert.Equal(204, (await SendAsync(c.Admin[1], HttpMethod.Delete, "/admin/v1/keys/app-1")).Status);
        var revoked = await UntilAsync(async () => (await c.ChatAsync(0, key)).Status == 401 && (await c.ChatAsync(1, key)).Status == 401, "the revoked key refused on both");
        output.WriteLine($"revoked key refused by both replicas {revoked.TotalMilliseconds:0} ms after the delete");
        Assert.True(revoked <= InStep, $"revocation took {revoked.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task A_route_change_moves_traffic_within_a_second_with_no_failed_request()
    {
        await using var c = await ControlPlaneCluster.StartAsync(_pg, replicas: 2);
        await SeedAsync(c);
        var key = (string)(await SendAsync(c.Admin[0], HttpMethod.Post, "/admin/v1/keys", """{"id":"load"}""")).Body!["key"]!;
        await UntilAsync(async () => (await c.ChatAsync(1, key)).Status == 200, "key on B");

        var seen = new ConcurrentQueue<(long Ms, int Status, string? Target)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 8).Select(async w =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (status, target) = await c.ChatAsync(w % 2, key);
                seen.Enqueue((clock.ElapsedMilliseconds, status, target));
            }
        }).ToList();
        await Task.Delay(500);
        long changedAt = clock.ElapsedMilliseconds;
        Assert.Equal(200, (await SendAsync(c.Admin[1], HttpMethod.Put, "/admin/v1/routes/chat", """{"provider":"mock-b"}""")).Status);
        await Task.Delay(2000);
        stop.Cancel();
        await Task.WhenAll(load);

        var all = seen.ToList();
        Assert.All(all, s => Assert.Equal(200, s.Status));
        long lastOld = all.Where(s => s.Target?.StartsWith("mock-a/", StringComparison.Ordinal) == true).Select(s => s.Ms).DefaultIfEmpty(changedAt).Max();
        output.WriteLine($"{all.Count} requests, none failed; the last one to the old provider {lastOld - changedAt} ms after the change");
        Assert.True(lastOld - changedAt <= 1000, $"traffic still reached the old provider {lastOld - changedAt} ms after the change");
        Assert.Contains(all, s => s.Target?.StartsWith("mock-b/", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Postgres_down_fails_nothing_admin_answers_503_a_restart_uses_the_snapshot_and_the_replicas_come_back_in_step()
    {
        // A server of its own: stopping the shared one would pull it from under the other tests.
        await using var pg = await PostgresServer.StartAsync();
        await using var c = await ControlPlaneCluster.StartAsync(pg, replicas: 2);
        await SeedAsync(c);
        var key = (string)(await SendAsync(c.Admin[0], HttpMethod.Post, "/admin/v1/keys", """{"id":"outage"}""")).Body!["key"]!;
        await UntilAsync(async () => (await c.ChatAsync(1, key)).Status == 200, "key on B");

        // Load on both replicas before, during and after the stop: nothing fails, nothing slows.
        var sent = new ConcurrentQueue<(bool During, int Status, double Ms)>();
        int phase = 0; // 0 before the stop, 1 while stopped
        using var stopLoad = new CancellationTokenSource();
        var load = Enumerable.Range(0, 8).Select(async w =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                var sw = Stopwatch.StartNew();
                var (status, _) = await c.ChatAsync(w % 2, key);
                sent.Enqueue((Volatile.Read(ref phase) == 1, status, sw.Elapsed.TotalMilliseconds));
            }
        }).ToList();
        await Task.Delay(1000);
        await pg.StopAsync();
        Volatile.Write(ref phase, 1);
        try
        {
            await Task.Delay(3000);
            stopLoad.Cancel();
            await Task.WhenAll(load);
            var all = sent.ToList();
            Assert.All(all, s => Assert.Equal(200, s.Status));
            double P99(IEnumerable<double> ms) { var l = ms.Order().ToList(); return l[(int)(l.Count * 0.99)]; }
            double before = P99(all.Where(s => !s.During).Select(s => s.Ms)), during = P99(all.Where(s => s.During).Select(s => s.Ms));
            output.WriteLine($"Postgres stopped under load: {all.Count} requests ({all.Count(s => s.During)} while it was down), all 200; p99 {before:0.0} ms before, {during:0.0} ms while down");
            Assert.True(during < Math.Max(50, 3 * before), $"p99 rose from {before:0.0} ms to {during:0.0} ms while Postgres was down");

            var sw503 = Stopwatch.StartNew();
            var refused = await SendAsync(c.Admin[0], HttpMethod.Put, "/admin/v1/routes/other", """{"provider":"mock-b"}""");
            output.WriteLine($"admin write with Postgres down: {refused.Status} in {sw503.ElapsedMilliseconds} ms: {refused.Text}");
            Assert.Equal(503, refused.Status);
            Assert.Contains("control_plane_unavailable", refused.Text, StringComparison.Ordinal);

            await UntilAsync(async () => (await SendAsync(c.Clients[1], HttpMethod.Get, "/v1/ready")).Text.Contains("\"degraded\"", StringComparison.Ordinal),
                "readiness shows the control plane degraded");
            Assert.Equal(200, (await SendAsync(c.Clients[1], HttpMethod.Get, "/v1/ready")).Status);

            // A replica restarted during the outage starts from its snapshot and serves the key.
            await c.Gateways[0].KillAsync();
            await c.StartReplicaAsync(0);
            Assert.Equal(200, (await c.ChatAsync(0, key)).Status);
        }
        finally
        {
            await pg.StartAgainAsync();
        }

        var back = Stopwatch.StartNew();
        await UntilAsync(async () => (await SendAsync(c.Admin[0], HttpMethod.Put, "/admin/v1/routes/after", """{"provider":"mock-b"}""")).Status is 200 or 201,
            "an admin write after Postgres returned");
        await UntilAsync(async () => (await c.ChatAsync(1, key, "after")).Status == 200, "replica B serving the route made after the outage");
        output.WriteLine($"back in step {back.ElapsedMilliseconds} ms after Postgres returned");
        Assert.True(back.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Invalid_admin_requests_get_a_400_naming_the_field_and_change_nothing()
    {
        await using var c = await ControlPlaneCluster.StartAsync(_pg, replicas: 1);
        await SeedAsync(c);
        Assert.Equal(201, (await SendAsync(c.Admin[0], HttpMethod.Post, "/admin/v1/keys", """{"id":"k1"}""")).Status);
        long version = (long)(await SendAsync(c.Admin[0], HttpMethod.Get, "/admin/v1/status")).Body!["database_version"]!;
        int audit = (await SendAsync(c.Admin[0], HttpMethod.Get, "/admin/v1/audit?limit=1000")).Body!["data"]!.AsArray().Count;

        (string Method, string Path, string Body, string Param)[] bad =
        [
            ("PUT", "/admin/v1/providers/p1", """{"type":"no-such-type"}""", "providers.p1.type"),
            ("PUT", "/admin/v1/routes/r1", """{"provider":"missing"}""", "routes.r1.provider"),
            ("PUT", "/admin/v1/routes/r2", """{"targets":[{"provider":"missing"}]}""", "routes.r2.targets[0].provider"),
            ("POST", "/admin/v1/keys", """{"id":"k1"}""", "keys.id"),
            ("PUT", "/admin/v1/keys/k1", """{"limits":{"requests_per_minute":"lots"}}""", "keys.k1.limits.requests_per_minute"),
            ("PUT", "/admin/v1/keys/k1", """{"routes":["nope"]}""", "keys.k1.routes[0]"),
            ("PUT", "/admin/v1/teams/t1", """{"budget":{"usd":-5,"period":"day"}}""", "teams.t1.budget.usd"),
            ("PUT", "/admin/v1/routes/r3", """{"provider": """, "")
        ];
        foreach (var (method, path, body, param) in bad)
        {
            var (status, json, text) = await SendAsync(c.Admin[0], new HttpMethod(method), path, body);
            output.WriteLine($"{method} {path} {body} -> {status} {text}");
            Assert.Equal(400, status);
            if (param.Length > 0) Assert.Equal(param, (string?)json!["error"]!["param"]);
            Assert.False(string.IsNullOrEmpty((string?)json!["error"]!["message"]));
        }
        Assert.Equal(version, (long)(await SendAsync(c.Admin[0], HttpMethod.Get, "/admin/v1/status")).Body!["database_version"]!);
        Assert.Equal(audit, (await SendAsync(c.Admin[0], HttpMethod.Get, "/admin/v1/audit?limit=1000")).Body!["data"]!.AsArray().Count);

        // A virtual key is not an admin key.
        var key = (string)(await SendAsync(c.Admin[0], HttpMethod.Post, "/admin/v1/keys", """{"id":"k2"}""")).Body!["key"]!;
        using var asVirtual = new HttpClient { BaseAddress = c.Clients[0].BaseAddress };
        asVirtual.DefaultRequestHeaders.Authorization = new("Bearer", key);
        Assert.Equal(401, (await SendAsync(asVirtual, HttpMethod.Get, "/admin/v1/keys")).Status);
    }

    [Fact]
    public async Task No_secret_is_readable_back_through_the_api_the_audit_log_the_snapshot_or_the_logs()
    {
        await using var c = await ControlPlaneCluster.StartAsync(_pg, replicas: 1);
        await SeedAsync(c);
        var made = await SendAsync(c.Admin[0], HttpMethod.Post, "/admin/v1/keys", """{"id":"secretive"}""");
        var key = (string)made.Body!["key"]!;
        var admin = await SendAsync(c.Admin[0], HttpMethod.Post, "/admin/v1/admin-keys", """{"id":"ops"}""");
        var adminSecret = (string)admin.Body!["key"]!;
        // A round trip of what GET shows keeps the stored credential.
        var shown = await SendAsync(c.Admin[0], HttpMethod.Get, "/admin/v1/providers/mock-a");
        Assert.Equal("(sealed)", (string?)shown.Body!["config"]!["api_key"]);
        Assert.Equal(200, (await SendAsync(c.Admin[0], HttpMethod.Put, "/admin/v1/providers/mock-a", shown.Body!["config"]!.ToJsonString())).Status);
        Assert.Equal(200, (await c.ChatAsync(0, key)).Status);

        var everything = new List<string>();
        foreach (var path in new[] { "/admin/v1/providers", "/admin/v1/providers/mock-a", "/admin/v1/routes", "/admin/v1/keys", "/admin/v1/keys/secretive",
                     "/admin/v1/admin-keys", "/admin/v1/audit?limit=1000", "/admin/v1/status" })
            everything.Add((await SendAsync(c.Admin[0], HttpMethod.Get, path)).Text);
        everything.Add(await File.ReadAllTextAsync(c.SnapshotFile(0)));
        everything.Add(c.AllOutput);
        foreach (var logFile in Directory.EnumerateFiles(Path.GetDirectoryName(c.SnapshotFile(0))!, "*", SearchOption.AllDirectories))
            if (!logFile.EndsWith("gw.yaml", StringComparison.Ordinal)) everything.Add(await File.ReadAllTextAsync(logFile));
        var all = string.Join('\n', everything);
        Assert.DoesNotContain(ProviderSecret, all, StringComparison.Ordinal);
        Assert.DoesNotContain(key, all, StringComparison.Ordinal);
        Assert.DoesNotContain(adminSecret, all, StringComparison.Ordinal);
        Assert.DoesNotContain(AdminKey, all, StringComparison.Ordinal);
        Assert.DoesNotContain(c.MasterKey, all, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_is_idempotent_and_export_then_apply_on_an_empty_database_reproduces_the_configuration()
    {
        await using var a = await ControlPlaneCluster.StartAsync(_pg, replicas: 1);
        await SeedAsync(a);
        var key = (string)(await SendAsync(a.Admin[0], HttpMethod.Post, "/admin/v1/keys", """{"id":"travels","routes":["chat"],"limits":{"requests_per_minute":100}}""")).Body!["key"]!;
        Assert.Equal(201, (await SendAsync(a.Admin[0], HttpMethod.Put, "/admin/v1/teams/red", """{"budget":{"usd":12.5,"period":"month"}}""")).Status);

        var exported = await a.CliAsync(0, "admin", "export");
        Assert.Equal(0, exported.Code);
        var file = Path.Combine(Path.GetTempPath(), $"cp-export-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, exported.Output);
        try
        {
            // A second region: its own empty database, the same master key (credentials travel sealed).
            await using var b = await ControlPlaneCluster.StartAsync(_pg, replicas: 1, masterKey: a.MasterKey);
            var first = await b.CliAsync(0, "admin", "apply", file);
            output.WriteLine("first apply:\n" + first.Output + first.Error);
            Assert.Equal(0, first.Code);
            Assert.Contains("+ providers.mock-a", first.Output, StringComparison.Ordinal);
            var second = await b.CliAsync(0, "admin", "apply", file);
            Assert.Equal(0, second.Code);
            Assert.Contains("no changes", second.Output, StringComparison.Ordinal);
            Assert.Equal(exported.Output, (await b.CliAsync(0, "admin", "export")).Output);
            // The key travelled by hash: the same secret works in region B.
            await UntilAsync(async () => (await b.ChatAsync(0, key)).Status == 200, "the exported key in region B");

            // A file with a mistake changes nothing and says where.
            await File.WriteAllTextAsync(file, exported.Output.Replace("\"provider\": \"mock-a\"", "\"provider\": \"mock-z\"", StringComparison.Ordinal));
            var bad = await b.CliAsync(0, "admin", "apply", file);
            output.WriteLine("bad apply: " + bad.Output + bad.Error);
            Assert.Equal(2, bad.Code);
            Assert.Contains("routes.chat.provider", bad.Error, StringComparison.Ordinal);
            await File.WriteAllTextAsync(file, exported.Output);
            Assert.Contains("no changes", (await b.CliAsync(0, "admin", "apply", file)).Output, StringComparison.Ordinal);

            var everything = exported.Output + first.Output + first.Error + second.Output + bad.Output + bad.Error + a.AllOutput + b.AllOutput;
            Assert.DoesNotContain(ProviderSecret, everything, StringComparison.Ordinal);
            Assert.DoesNotContain(key, everything, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Usage_rollups_count_every_request_per_key_team_and_route()
    {
        await using var c = await ControlPlaneCluster.StartAsync(_pg, replicas: 2);
        await SeedAsync(c);
        Assert.Equal(201, (await SendAsync(c.Admin[0], HttpMethod.Put, "/admin/v1/teams/blue", "{}")).Status);
        var key = (string)(await SendAsync(c.Admin[0], HttpMethod.Post, "/admin/v1/keys", """{"id":"counted","team":"blue"}""")).Body!["key"]!;
        await UntilAsync(async () => (await c.ChatAsync(1, key)).Status == 200, "key on B");
        for (int i = 0; i < 39; i++) Assert.Equal(200, (await c.ChatAsync(i % 2, key)).Status);   // 40 in all, over both replicas

        long Requests(System.Text.Json.Nodes.JsonNode? body, string field, string group) =>
            body!["data"]!.AsArray().Where(r => (string?)r![field] == group).Sum(r => (long)r!["requests"]!);
        await UntilAsync(async () => Requests((await SendAsync(c.Admin[0], HttpMethod.Get, "/admin/v1/usage?group_by=key")).Body, "key", "counted") == 40,
            "40 requests in the usage rollups");
        var byTeam = await SendAsync(c.Admin[1], HttpMethod.Get, "/admin/v1/usage?group_by=team");
        Assert.Equal(40, Requests(byTeam.Body, "team", "blue"));
        var byRoute = await SendAsync(c.Admin[1], HttpMethod.Get, "/admin/v1/usage?group_by=route&route=chat");
        Assert.Equal(40, Requests(byRoute.Body, "route", "chat"));
        Assert.True(byRoute.Body!["data"]![0]!["output_tokens"]!.GetValue<long>() > 0);
        Assert.Equal(400, (await SendAsync(c.Admin[0], HttpMethod.Get, "/admin/v1/usage?group_by=planet")).Status);
        Assert.Equal(400, (await SendAsync(c.Admin[0], HttpMethod.Get, "/admin/v1/usage?from=yesterday")).Status);
    }

    [Fact]
    public async Task A_frozen_Postgres_slows_no_request_and_the_admin_api_answers_503_then_recovers()
    {
        await using var pg = await PostgresServer.StartAsync();
        await using var c = await ControlPlaneCluster.StartAsync(pg, replicas: 1);
        await SeedAsync(c);
        var key = (string)(await SendAsync(c.Admin[0], HttpMethod.Post, "/admin/v1/keys", """{"id":"frozen"}""")).Body!["key"]!;
        pg.Freeze();
        try
        {
            var slowest = 0.0;
            for (int i = 0; i < 50; i++)
            {
                var sw = Stopwatch.StartNew();
                Assert.Equal(200, (await c.ChatAsync(0, key)).Status);
                slowest = Math.Max(slowest, sw.Elapsed.TotalMilliseconds);
            }
            var admin = Stopwatch.StartNew();
            var refused = await SendAsync(c.Admin[0], HttpMethod.Put, "/admin/v1/routes/later", """{"provider":"mock-b"}""");
            output.WriteLine($"Postgres frozen: 50 requests, all 200, slowest {slowest:0.0} ms; admin write {refused.Status} after {admin.ElapsedMilliseconds} ms");
            Assert.True(slowest < 500, $"a request took {slowest:0} ms with Postgres frozen");
            Assert.Equal(503, refused.Status);
            Assert.True(admin.Elapsed < TimeSpan.FromSeconds(30));
        }
        finally
        {
            pg.Thaw();
        }
        await UntilAsync(async () => (await SendAsync(c.Admin[0], HttpMethod.Put, "/admin/v1/routes/later", """{"provider":"mock-b"}""")).Status is 200 or 201,
            "an admin write once Postgres answers again");
        Assert.Equal(200, (await c.ChatAsync(0, key, "later")).Status);
    }

    [Fact]
    public async Task The_admin_api_on_a_port_of_its_own_is_served_only_there()
    {
        int adminPort;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            adminPort = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        await using var c = await ControlPlaneCluster.StartAsync(_pg, replicas: 1, controlPlaneExtra: $"admin_listen: http://127.0.0.1:{adminPort}");
        using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}") };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", AdminKey);
        Assert.Equal(201, (await SendAsync(admin, HttpMethod.Put, "/admin/v1/providers/mock-a", """{"type":"mock"}""")).Status);
        Assert.Equal(201, (await SendAsync(admin, HttpMethod.Put, "/admin/v1/routes/chat", """{"provider":"mock-a"}""")).Status);
        var key = (string)(await SendAsync(admin, HttpMethod.Post, "/admin/v1/keys", """{"id":"ported"}""")).Body!["key"]!;

        // The client port serves the API and not the admin API; the admin port serves the admin API and nothing else.
        Assert.Equal(404, (await SendAsync(c.Admin[0], HttpMethod.Get, "/admin/v1/keys")).Status);
        Assert.Equal(200, (await c.ChatAsync(0, key)).Status);
        using var chatOnAdmin = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json("""{"model":"chat","messages":[{"role":"user","content":"hi"}]}""") };
        chatOnAdmin.Headers.Authorization = new("Bearer", key);
        Assert.Equal(404, (int)(await admin.SendAsync(chatOnAdmin)).StatusCode);
    }
}
