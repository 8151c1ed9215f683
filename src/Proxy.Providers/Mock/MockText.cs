namespace Proxy.Providers.Mock;

/// <summary>The mock's deterministic words: token i of every answer is always the same word.</summary>
internal static class MockText
{
    private static readonly string[] Words =
        ("This is a deterministic answer from the gateway's built-in mock model. It streams one word per token, " +
         "paced as configured, so that the gateway's own overhead can be measured without paying for real tokens.").Split(' ');

    /// <summary>Token i, with the leading space every token after the first carries.</summary>
    public static string Token(int i) => i == 0 ? Words[0] : " " + Words[i % Words.Length];

    public static string Text(int tokens) => string.Concat(Enumerable.Range(0, tokens).Select(Token));

    /// <summary>About four bytes of request per prompt token, the usual rule of thumb for English JSON.</summary>
    public static int PromptTokens(int bodyBytes) => Math.Max(1, bodyBytes / 4);
}
