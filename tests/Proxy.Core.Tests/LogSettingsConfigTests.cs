namespace Proxy.Core.Tests;

/// <summary>The <c>logs:</c> section's durations: read, defaulted, and refused with file:line when they cannot work.</summary>
public class LogSettingsConfigTests
{
    private static string WithLogs(string logs) => ConfigLoaderTests.Valid + "\nlogs:\n" + logs;

    [Fact]
    public void FlushIntervalAndUploadTimeout_AreRead_AndDefault()
    {
        var d = ConfigLoaderTests.Parse(ConfigLoaderTests.Valid).Logs;
        Assert.Equal(TimeSpan.FromMilliseconds(100), d.FlushInterval);
        Assert.Equal(TimeSpan.FromSeconds(30), d.UploadTimeout);

        var c = ConfigLoaderTests.Parse(WithLogs("  flush_interval: 200ms\n  upload_timeout: 5s\n")).Logs;
        Assert.Equal(TimeSpan.FromMilliseconds(200), c.FlushInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), c.UploadTimeout);
    }

    [Theory]
    [InlineData("upload_timeout", "0s", "must be longer than 0")]
    [InlineData("upload_timeout", "soon", "is not a duration")]
    [InlineData("flush_interval", "0ms", "must be longer than 0")]
    [InlineData("flush_interval", "100", "is not a duration")]
    [InlineData("max_age", "0s", "must be longer than 0")]
    public void BadDuration_IsReportedWithItsLine(string field, string value, string reason)
    {
        var yaml = WithLogs($"  sink: local\n  {field}: {value}\n");
        var e = ConfigLoaderTests.Invalid(yaml);
        var error = Assert.Single(e.Errors, x => x.Path == "logs." + field);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Equal(yaml.Split('\n').ToList().FindIndex(l => l.StartsWith($"  {field}:", StringComparison.Ordinal)) + 1, error.Line);
        Assert.Contains($"gateway.yaml:{error.Line}:", e.Message, StringComparison.Ordinal);
    }
}
