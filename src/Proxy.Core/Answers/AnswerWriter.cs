using System.Buffers;
using Proxy.Providers;

namespace Proxy.Answers;

/// <summary>
/// The neutral answer contract: what a provider's decoder says about one answer, in the order it learns it, and what a
/// client API's writer turns into that client's wire format (OpenAI chat, Anthropic messages, OpenAI responses), plain or
/// streamed. A provider or a client API is one new piece each, never one per pair.
/// <para>
/// Strings cross the contract as JSON string tokens, quotes included, escaped exactly as the upstream sent them
/// (<c>"Hello\n"</c>), so a text delta costs no decode and no encode. A decoder whose provider has no string to give
/// (Gemini's tool-call arguments are an object) encodes one. Concatenating the insides of such tokens is itself valid
/// JSON string content, which is how plain writers gather whole texts without decoding them.
/// </para>
/// <para>
/// Order: <see cref="Start"/> first; then any number of <see cref="Text"/>, <see cref="Reasoning"/>,
/// <see cref="ToolCallStart"/> and <see cref="ToolCallArguments"/> (a tool call's arguments after its start);
/// <see cref="Finish"/> once the reason is known; <see cref="SetUsage"/> whenever counts arrive (cumulative, the last
/// one wins); <see cref="End"/> when the upstream said the answer is complete. Or <see cref="Error"/> at any point,
/// which ends the answer as failed. One instance per answer; not thread-safe.
/// </para>
/// </summary>
public abstract class AnswerWriter
{
    /// <summary>Where the client's bytes go; bound by the relay before each batch of events.</summary>
    protected IBufferWriter<byte> Output { get; private set; } = null!;

    /// <summary>The answer's usage as last reported, normalized (prompt tokens include cache reads and writes).</summary>
    public Usage Usage;

    /// <summary>The answer is complete (<see cref="End"/> was called).</summary>
    public bool Completed { get; protected set; }

    /// <summary>The answer ended in an error (<see cref="Error"/> was called).</summary>
    public bool Failed { get; protected set; }

    /// <summary>The failure <see cref="Error"/> reported, for whole answers (which the relay then answers as an error).</summary>
    public UpstreamFailure? Failure { get; protected set; }

    /// <summary>Client-facing events written so far (the relay flushes when it grows).</summary>
    public int EventsWritten { get; protected set; }

    public void Bind(IBufferWriter<byte> output) => Output = output;

    /// <summary>The answer begins. <paramref name="id"/> and <paramref name="model"/> are JSON string tokens, empty when the upstream gave none.</summary>
    public abstract void Start(ReadOnlySpan<byte> id, ReadOnlySpan<byte> model);

    /// <summary>Answer text (a JSON string token).</summary>
    public abstract void Text(ReadOnlySpan<byte> text);

    /// <summary>The model's reasoning ("thinking") text (a JSON string token). Writers whose client API has no place for it drop it.</summary>
    public abstract void Reasoning(ReadOnlySpan<byte> text);

    /// <summary>The signature that authenticates the reasoning so far (Anthropic's thinking signature), a JSON string token.</summary>
    public virtual void ReasoningSignature(ReadOnlySpan<byte> signature)
    {
    }

    /// <summary>A tool call begins. <paramref name="index"/> counts tool calls only, from 0, in the answer's order.</summary>
    public abstract void ToolCallStart(int index, ReadOnlySpan<byte> id, ReadOnlySpan<byte> name);

    /// <summary>A fragment of a tool call's arguments: a JSON string token whose content is a piece of the arguments' JSON text.</summary>
    public abstract void ToolCallArguments(int index, ReadOnlySpan<byte> fragment);

    /// <summary>Why the model stopped; <paramref name="stopSequence"/> is the JSON string token of the matched stop sequence, when known.</summary>
    public abstract void Finish(FinishReason reason, ReadOnlySpan<byte> stopSequence = default);

    /// <summary>The usage so far (cumulative): kept for the end, not written at once.</summary>
    public void SetUsage(in Usage usage) => Usage = usage;

    /// <summary>The upstream said the answer is complete.</summary>
    public abstract void End();

    /// <summary>
    /// The upstream failed the answer (an error event mid-stream, a corrupt stream). <paramref name="type"/> and
    /// <paramref name="code"/> are the gateway's OpenAI-style classification (<see cref="Errors.OpenAiError"/>), <paramref name="status"/>
    /// the HTTP status it would have had; each writer says it in its client's error shape. The answer is over.
    /// </summary>
    public abstract void Error(string message, string type, string? code, int status);

    /// <summary>The upstream sent a keep-alive; streaming writers pass one on (an SSE comment or ping), plain ones ignore it.</summary>
    public virtual void KeepAlive()
    {
    }

    /// <summary>Counts an event written, for writers to call.</summary>
    protected void Wrote() => EventsWritten++;

    protected void MarkCompleted() => Completed = true;

    protected void MarkFailed() => Failed = true;

    /// <summary>Copies raw bytes to the output.</summary>
    protected void Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Output.GetSpan(bytes.Length));
        Output.Advance(bytes.Length);
    }
}
