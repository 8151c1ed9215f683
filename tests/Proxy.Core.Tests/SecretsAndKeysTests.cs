using Proxy.Config;
using Proxy.Keys;

namespace Proxy.Core.Tests;

public class SecretsAndKeysTests
{
    [Fact]
    public void Expand_EnvironmentAndFileReferences()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        File.WriteAllText(Path.Combine(dir, "secret.txt"), "from-file\n");
        var resolver = new SecretResolver(dir, n => n == "A" ? "env-a" : null);
        Assert.Equal("x-env-a-y", resolver.Expand("x-${A}-y", out _));
        Assert.Equal("from-file", resolver.Expand("${file:secret.txt}", out _));
        Assert.Equal("plain", resolver.Expand("plain", out _));
    }

    [Theory]
    [InlineData("${MISSING}", "environment variable 'MISSING' is not set")]
    [InlineData("${file:/nonexistent/x}", "cannot read secret file")]
    [InlineData("${UNTERMINATED", "unterminated")]
    [InlineData("${}", "empty")]
    public void Expand_Failures_SayWhy(string value, string reason)
    {
        var resolver = new SecretResolver("/", _ => null);
        Assert.Null(resolver.Expand(value, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyHash_RoundTripsThroughItsConfigForm()
    {
        var key = KeyGenerator.NewKey();
        Assert.StartsWith("sk-gw-", key, StringComparison.Ordinal);
        Assert.Equal(49, key.Length);
        var text = KeyHash.Of(key).ToString();
        Assert.True(KeyHash.TryParse(text, out var parsed));
        Assert.Equal(KeyHash.Of(key), parsed);
        Assert.NotEqual(KeyHash.Of(key), KeyHash.Of(KeyGenerator.NewKey()));
    }

    [Fact]
    public void KeyHash_IsTheSha256HexThatShellToolsPrint()
    {
        // printf %s abc | sha256sum
        Assert.Equal("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", KeyHash.Of("abc").ToString());
    }

    [Theory]
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("sha256:ba78")]
    [InlineData("sha256:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    public void KeyHash_RejectsMalformedText(string text) => Assert.False(KeyHash.TryParse(text, out _));

    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("10s", 10_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    public void Durations_Parse(string text, double ms)
    {
        Assert.True(ConfigValues.TryParseDuration(text, out var d));
        Assert.Equal(ms, d.TotalMilliseconds);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("-1s")]
    [InlineData("s")]
    public void Durations_WithoutUnitOrNegative_AreRejected(string text) => Assert.False(ConfigValues.TryParseDuration(text, out _));

    [Theory]
    [InlineData("1024", 1024)]
    [InlineData("512KiB", 512 * 1024)]
    [InlineData("4MiB", 4 * 1024 * 1024)]
    public void Sizes_Parse(string text, long bytes)
    {
        Assert.True(ConfigValues.TryParseSize(text, out var n));
        Assert.Equal(bytes, n);
    }
}
