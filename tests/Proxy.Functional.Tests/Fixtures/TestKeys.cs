using System.Security.Cryptography;
using System.Text;

namespace Proxy.Functional.Tests.Fixtures;

/// <summary>The virtual keys and the provider credential every test config uses.</summary>
public static class TestKeys
{
    /// <summary>May use every route.</summary>
    public const string All = "sk-gw-functional-all-7c1f0e5a9b2d4c3e";

    /// <summary>May use only <c>mock-gpt</c>.</summary>
    public const string Limited = "sk-gw-functional-limited-3a8d6b1f0e2c";

    /// <summary>The gateway's own credential for the fake upstream, read from the environment by the config.</summary>
    public const string UpstreamSecret = "sk-upstream-provider-secret-42";

    public const string UpstreamSecretEnvVar = "PROXY_FUNCTIONAL_TESTS_UPSTREAM_KEY";

    public static string Hash(string key) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
