namespace Proxy.Providers.Gemini;

/// <summary>What the OpenAI envelope of an embeddings answer needs: its id, creation time, model, and the request it answers.</summary>
public readonly record struct AnswerContext(string Id, long Created, string Model, string RequestId, string Provider)
{
    public static AnswerContext For(in UpstreamCall call, TimeProvider time) =>
        new("chatcmpl-" + call.RequestId, time.GetUtcNow().ToUnixTimeSeconds(), call.Target.UpstreamModel, call.RequestId, call.Target.Provider.Name);
}
