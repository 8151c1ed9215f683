namespace Proxy.Providers.Vertex;

/// <summary>
/// One Vertex AI project and region, and the URLs of the publisher models served there:
/// <c>{base}/projects/{project}/locations/{region}/publishers/{publisher}/models/{model}:{method}</c>, where base is
/// <c>https://{region}-aiplatform.googleapis.com/v1</c>, <c>https://aiplatform.googleapis.com/v1</c> for the
/// <c>global</c> region, <c>https://aiplatform.{us|eu}.rep.googleapis.com/v1</c> for the <c>us</c> and <c>eu</c>
/// multi-regions (or base_url when configured, so tests point at loopback).
/// Every publisher (google for Gemini, anthropic for Claude...) shares this shape; only the model and method differ.
/// </summary>
public sealed class VertexLocation
{
    public static readonly Uri GlobalBaseUrl = new("https://aiplatform.googleapis.com/v1");

    private readonly string _base;
    private readonly string _prefix;

    /// <param name="configuredBaseUrl">base_url as configured; <see cref="GlobalBaseUrl"/> (the type's default) means "the region's own host".</param>
    public VertexLocation(Uri configuredBaseUrl, string project, string region)
    {
        Project = project;
        Region = region;
        BaseUrl = configuredBaseUrl != GlobalBaseUrl ? configuredBaseUrl : region switch
        {
            "global" => GlobalBaseUrl,
            // The us and eu multi-region endpoints have hosts of their own (as Anthropic's Vertex SDKs address them).
            "us" or "eu" => new Uri($"https://aiplatform.{region}.rep.googleapis.com/v1"),
            _ => new Uri($"https://{region}-aiplatform.googleapis.com/v1"),
        };
        _base = BaseUrl.ToString().TrimEnd('/');
        _prefix = $"{_base}/projects/{Uri.EscapeDataString(project)}/locations/{Uri.EscapeDataString(region)}";
    }

    public string Project { get; }

    public string Region { get; }

    /// <summary>The base the requests go to (the regional host unless base_url overrides it).</summary>
    public Uri BaseUrl { get; }

    /// <summary>
    /// The URL of <paramref name="method"/> (e.g. generateContent, streamRawPredict; a query may follow) on a publisher
    /// model. A model given as a full resource name (projects/.../endpoints/...: a tuned model) is used as it is.
    /// </summary>
    public Uri ModelUrl(string publisher, string model, string method) =>
        model.StartsWith("projects/", StringComparison.Ordinal)
            ? new Uri($"{_base}/{EscapePath(model)}:{method}")
            : new Uri($"{_prefix}/publishers/{Uri.EscapeDataString(publisher)}/models/{EscapePath(model)}:{method}");

    /// <summary>Each segment escaped, but '@' kept: Vertex model versions are written claude-...@20250514.</summary>
    internal static string EscapePath(string path) =>
        string.Join('/', path.Split('/').Select(s => Uri.EscapeDataString(s).Replace("%40", "@", StringComparison.Ordinal)));
}
