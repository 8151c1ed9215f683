// The official Anthropic TypeScript SDK, unchanged, driving the gateway's /v1/messages: one scenario per run, its
// result printed as one JSON line for the C# test to check (AnthropicSdkNodeTests). Errors are results too.
// Usage: GATEWAY_URL=http://127.0.0.1:PORT GATEWAY_KEY=... MODEL=route node anthropic-sdk.cjs SCENARIO
const Anthropic = require('@anthropic-ai/sdk');

const client = new Anthropic({ apiKey: process.env.GATEWAY_KEY, baseURL: process.env.GATEWAY_URL, maxRetries: 0, timeout: 15000 });
const model = process.env.MODEL;
const weatherTool = {
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

function text(message) {
  return message.content.filter(b => b.type === 'text').map(b => b.text).join('');
}

function summary(message) {
  return {
    id: message.id, model: message.model, role: message.role, type: message.type, text: text(message),
    stop_reason: message.stop_reason, usage: message.usage,
    tools: message.content.filter(b => b.type === 'tool_use').map(b => ({ id: b.id, name: b.name, input: b.input })),
    thinking: message.content.filter(b => b.type === 'thinking').map(b => b.thinking).join(''),
  };
}

const scenarios = {
  async plain() {
    const message = await client.messages.create({ model, max_tokens: 100, messages: [{ role: 'user', content: 'Say hello' }] });
    return summary(message);
  },
  async stream() {
    const stream = client.messages.stream({ model, max_tokens: 100, messages: [{ role: 'user', content: 'Say hello' }] });
    const events = [];
    for await (const event of stream) events.push(event.type);
    return { events, ...summary(await stream.finalMessage()) };
  },
  async tools() {
    const first = await client.messages.create({
      model, max_tokens: 200, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    const call = first.content.find(b => b.type === 'tool_use');
    if (!call) return { first: summary(first), error: 'no tool_use block' };
    const second = await client.messages.create({
      model, max_tokens: 200, tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '18C and sunny' }] },
      ],
    });
    return { first: summary(first), second: summary(second) };
  },
  async stream_tools() {
    const stream = client.messages.stream({
      model, max_tokens: 200, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Rome?' }],
    });
    const events = [];
    for await (const event of stream) events.push(event.type);
    return { events, ...summary(await stream.finalMessage()) };
  },
  async unknown_model() {
    await client.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    return { error: 'no error' };
  },
  async count_tokens() {
    const count = await client.messages.countTokens({ model, messages: [{ role: 'user', content: 'Say hello' }] });
    return { input_tokens: count.input_tokens };
  },
};

(async () => {
  const run = scenarios[process.argv[2]];
  if (!run) throw new Error('unknown scenario ' + process.argv[2]);
  try {
    console.log(JSON.stringify({ ok: true, result: await run() }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, status: e.status ?? null, type: e.error?.error?.type ?? null, message: e.message, name: e.constructor?.name }));
  }
})();
