using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Proxy.Logging.Azure;

/// <summary>
/// Shared Key authorization for the Blob service (REST reference "Authorize with Shared Key", versions
/// 2015-02-21 and later): <c>Authorization: SharedKey {account}:{base64(HMAC-SHA256(key, StringToSign))}</c>.
/// </summary>
internal static class SharedKeySigner
{
    /// <summary>
    /// VERB, Content-Encoding, Content-Language, Content-Length (empty when 0), Content-MD5, Content-Type, Date,
    /// If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since, Range, each followed by "\n"; then the
    /// canonicalized x-ms-* headers (lowercase name, sorted, "name:value\n") and the canonicalized resource
    /// ("/" + account + encoded URI path, then "\nname:value" for each query parameter, lowercase names sorted,
    /// values URL-decoded, several values sorted and comma-joined). Date stays empty because x-ms-date is sent.
    /// </summary>
    internal static string StringToSign(HttpRequestMessage request, string account)
    {
        var content = request.Content?.Headers;
        var length = content?.ContentLength;
        var sb = new StringBuilder(256);
        sb.Append(request.Method.Method.ToUpperInvariant()).Append('\n');
        sb.Append(Join(content?.ContentEncoding)).Append('\n');
        sb.Append(Join(content?.ContentLanguage)).Append('\n');
        sb.Append(length is null or 0 ? "" : length.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append(content?.ContentMD5 is { } md5 ? Convert.ToBase64String(md5) : "").Append('\n');
        sb.Append(content?.ContentType?.ToString() ?? "").Append('\n');
        sb.Append(Raw(request.Headers, "Date")).Append('\n');
        sb.Append(Raw(request.Headers, "If-Modified-Since")).Append('\n');
        sb.Append(Raw(request.Headers, "If-Match")).Append('\n');
        sb.Append(Raw(request.Headers, "If-None-Match")).Append('\n');
        sb.Append(Raw(request.Headers, "If-Unmodified-Since")).Append('\n');
        sb.Append(Raw(request.Headers, "Range")).Append('\n');

        var msHeaders = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, values) in request.Headers.NonValidated)
        {
            if (name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
            {
                msHeaders[name.ToLowerInvariant()] = string.Join(",", values).Trim();
            }
        }

        foreach (var (name, value) in msHeaders)
        {
            sb.Append(name).Append(':').Append(value).Append('\n');
        }

        var uri = request.RequestUri ?? throw new InvalidOperationException("request has no URI");
        sb.Append('/').Append(account).Append(uri.AbsolutePath);
        var query = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var part in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString((eq < 0 ? part : part[..eq]).Replace('+', ' ')).ToLowerInvariant();
            var value = eq < 0 ? "" : Uri.UnescapeDataString(part[(eq + 1)..].Replace('+', ' '));
            if (!query.TryGetValue(name, out var list))
            {
                query[name] = list = [];
            }

            list.Add(value);
        }

        foreach (var (name, values) in query)
        {
            values.Sort(StringComparer.Ordinal);
            sb.Append('\n').Append(name).Append(':').Append(string.Join(",", values));
        }

        return sb.ToString();
    }

    internal static string Sign(string stringToSign, byte[] key) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));

    internal static void Authorize(HttpRequestMessage request, string account, byte[] key) =>
        request.Headers.TryAddWithoutValidation("Authorization", $"SharedKey {account}:{Sign(StringToSign(request, account), key)}");

    private static string Join(ICollection<string>? values) => values is null || values.Count == 0 ? "" : string.Join(",", values);

    private static string Raw(HttpRequestHeaders headers, string name) =>
        headers.NonValidated.TryGetValues(name, out var values) ? string.Join(",", values) : "";
}
