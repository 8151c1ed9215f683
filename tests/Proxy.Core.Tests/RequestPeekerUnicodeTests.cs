using System.Text;
using Proxy.Ingress;

namespace Proxy.Core.Tests;

/// <summary>The peek refuses what is not I-JSON: invalid UTF-8 anywhere, and escapes that leave a surrogate unpaired, at the exact byte.</summary>
public class RequestPeekerUnicodeTests
{
    private static byte[] Bytes(string before, byte[] bad, string after) => [.. Encoding.UTF8.GetBytes(before), .. bad, .. Encoding.UTF8.GetBytes(after)];

    private const string Open = "{\"model\":\"m\",\"x\":\"";

    public static TheoryData<string, byte[], string> InvalidUtf8 => new()
    {
        // where, then the bytes around the bad sequence: the expected offset is the length of the part before it
        { """{"model":"gpt""", [0xFF], "\"}" },                                              // model value
        { """{"mo""", [0xC3], "del\":\"m\"}" },                                               // model key: a lead byte with no continuation
        { """{"model":"m","x""", [0x80], "\":1}" },                                           // other key: a stray continuation byte
        { """{"model":"m","messages":[{"role":"user","content":"hi """, [0xFE], "\"}]}" },    // other value, nested
        { """{"model":"m","a":{"b":[{"c":[""", [0xF8, 0x88, 0x80, 0x80, 0x80], "\"]}]}}" },     // deeper: a 5-byte form
        { "", [0x80], """{"model":"m"}""" },                                                  // very start
        { """{"model":"m"}""", [0xC3], "" },                                                  // very end: cut off
        { Open, [0xE2, 0x82], "" },                                       // truncated 3-byte sequence at the end
        { Open, [0xF0, 0x9F, 0x98], "" },                                 // truncated 4-byte sequence at the end
        { """{"model":"m","x":"a""", [0xED, 0xA0, 0x80], "\"}" },                             // a raw (CESU) high surrogate
        { """{"model":"m","x":"a""", [0xED, 0xBF, 0xBF], "\"}" },                             // a raw low surrogate
        { Open, [0xC0, 0xAF], "\"}" },                                    // overlong '/'
        { Open, [0xE0, 0x80, 0xAF], "\"}" },                              // overlong '/', 3 bytes
        { Open, [0xF0, 0x80, 0x80, 0xAF], "\"}" },                        // overlong '/', 4 bytes
        { Open, [0xF4, 0x90, 0x80, 0x80], "\"}" },                        // above U+10FFFF
        { """{"model":"m","x":"€ ok""", [0xC2], "\"}" },                                      // after valid multi-byte text
    };

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public void InvalidUtf8_IsRefusedAtItsOffset(string before, byte[] bad, string after)
    {
        var body = Bytes(before, bad, after);

        var error = RequestPeeker.TryPeek(body, out _);

        Assert.NotNull(error);
        int expected = Encoding.UTF8.GetByteCount(before);
        Assert.Equal(expected, error.Offset);
        Assert.Contains($"not valid UTF-8: byte {expected} (0x{bad[0]:X2})", error.Message, StringComparison.Ordinal);
        Assert.Equal(expected, UnicodeChecks.FirstInvalidUtf8(body));
    }

    [Theory]
    [InlineData("""{"model":"m","x":"\ud800"}""", 18)]                  // lone high surrogate
    [InlineData("""{"model":"m","x":"\udc00"}""", 18)]                  // lone low surrogate
    [InlineData("""{"model":"m","x":"ab\uDBFFcd"}""", 20)]              // high, then text
    [InlineData("""{"model":"m","x":"\ud800\ud800"}""", 18)]            // high, then another high
    [InlineData("""{"model":"m","x":"\ud83d\n"}""", 18)]                // high, then another escape
    [InlineData("""{"model":"m","x":"\ude00\ud83d"}""", 18)]            // the pair reversed
    [InlineData("""{"model":"m","x":"\ud83d\ude00\udc00"}""", 30)]      // a good pair, then a lone low
    [InlineData("""{"model":"\udfff"}""", 10)]                          // model value
    [InlineData("""{"\ud800":1,"model":"m"}""", 2)]                     // a key
    [InlineData("""{"model":"m","stream_options":{"x\ud800":1}}""", 33)] // a key the peek reads into
    [InlineData("""{"model":"m","m":[[{"c":["\udc00"]}]]}""", 26)]      // nested in arrays and objects
    [InlineData("""{"model":"m","x":"\\\ud800"}""", 20)]               // an escaped backslash, then the escape
    public void LoneSurrogateEscape_IsRefusedAtItsBackslash(string json, int offset)
    {
        var body = Encoding.UTF8.GetBytes(json);

        var error = RequestPeeker.TryPeek(body, out _);

        Assert.NotNull(error);
        Assert.Equal(offset, error.Offset);
        Assert.Equal("\\u", json.Substring(offset, 2)); // ASCII: string and byte offsets agree
        Assert.Contains($"'{json.Substring(offset, 6)}' at byte {offset}", error.Message, StringComparison.Ordinal);
        Assert.Null(error.Param);
    }

    [Theory]
    [InlineData("""{"model":"m","x":"\ud83d\ude00"}""")]            // a pair
    [InlineData("""{"model":"m","x":"\uD83D\uDE00 and \u00e9"}""")] // upper-case hex, a BMP escape
    [InlineData("""{"model":"m","x":"\\ud800"}""")]                 // an escaped backslash: the text \ud800, no escape
    [InlineData("""{"model":"m","x":"\\\\ud800"}""")]
    [InlineData("""{"model":"m","x":"\"\/\b\f\n\r\t"}""")]          // every other escape
    [InlineData("""{"model":"m","x":"héllo € 😀 日本"}""")]          // raw multi-byte UTF-8
    public void ValidUnicode_IsAccepted(string json)
    {
        Assert.Null(RequestPeeker.TryPeek(Encoding.UTF8.GetBytes(json), out _));
    }

    [Fact]
    public void EscapedModel_StillRoutesByItsText()
    {
        const string json = """{"model":"\ud83d\ude00-\u006d"}""";
        Assert.Null(RequestPeeker.TryPeek(Encoding.UTF8.GetBytes(json), out var facts));
        Assert.Equal(9, facts.ModelStart);
    }
}
