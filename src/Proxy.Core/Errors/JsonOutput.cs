using System.Text.Encodings.Web;
using System.Text.Json;

namespace Proxy.Errors;

/// <summary>
/// Writer options for everything the gateway writes itself. The default encoder escapes ' " &lt; &gt; as \u00XX
/// for embedding in HTML; these bodies are application/json, where that only makes messages hard to read.
/// </summary>
public static class JsonOutput
{
    public static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
