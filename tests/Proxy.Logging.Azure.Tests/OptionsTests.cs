namespace Proxy.Logging.Azure.Tests;

public class OptionsTests
{
    private static AzureBlobSinkOptions Valid() => new() { AccountName = "acct", Container = "logs", AccountKey = Azurite.Key };

    [Fact]
    public void Valid_options_pass_and_default_endpoint_is_the_public_cloud()
    {
        var o = Valid();
        o.Validate();
        Assert.Equal("https://acct.blob.core.windows.net/", o.ResolveEndpoint().ToString());
        using var sink = new AzureBlobLogSink(o);
        Assert.Equal("azure-blob", sink.Name);
        Assert.Equal("https://acct.blob.core.windows.net/logs/a/b%20c.gz", sink.BlobUri("a/b c.gz").AbsoluteUri);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("key+sas")]
    [InlineData("key+mi")]
    [InlineData("sas+mi")]
    public void Exactly_one_auth_mode(string modes)
    {
        var o = new AzureBlobSinkOptions { AccountName = "acct", Container = "logs" };
        if (modes.Contains("key", StringComparison.Ordinal)) o.AccountKey = Azurite.Key;
        if (modes.Contains("sas", StringComparison.Ordinal)) o.SasToken = "sv=2021-08-06&sig=abc";
        if (modes.Contains("mi", StringComparison.Ordinal)) o.ManagedIdentity = true;
        var ex = Assert.Throws<ArgumentException>(o.Validate);
        Assert.Contains("exactly one of AccountKey, SasToken or ManagedIdentity", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Azurite.Key, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Names_and_urls_are_checked_and_every_problem_listed()
    {
        var o = new AzureBlobSinkOptions { AccountName = "", Container = "", AccountKey = "not base64!", Endpoint = "ftp://x", RequestTimeout = TimeSpan.Zero };
        var ex = Assert.Throws<ArgumentException>(o.Validate);
        Assert.Contains("AccountName is required", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Container is required", ex.Message, StringComparison.Ordinal);
        Assert.Contains("AccountKey is not valid base64", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Endpoint 'ftp://x'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("RequestTimeout", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not base64!", ex.Message, StringComparison.Ordinal);

        var bad = Valid();
        bad.Container = "Logs_UPPER";
        Assert.Throws<ArgumentException>(bad.Validate);
        var mi = Valid();
        mi.ManagedIdentityClientId = "abc";
        Assert.Contains("ManagedIdentity is false", Assert.Throws<ArgumentException>(mi.Validate).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_has_no_secret()
    {
        var o = Valid();
        Assert.DoesNotContain(Azurite.Key, o.ToString(), StringComparison.Ordinal);
        Assert.Contains("shared-key", o.ToString(), StringComparison.Ordinal);
        var sas = new AzureBlobSinkOptions { AccountName = "acct", Container = "logs", SasToken = "?sv=x&sig=SECRET" };
        Assert.DoesNotContain("SECRET", sas.ToString(), StringComparison.Ordinal);
    }
}
