// The official OpenAI TypeScript SDK, unchanged, driving the gateway's Responses API: one scenario per run, its result
// printed as one JSON line for the C# test (ResponsesSdkNodeTests). Errors are results too.
// Usage: GATEWAY_URL=http://127.0.0.1:PORT GATEWAY_KEY=... MODEL=route node responses-sdk.cjs SCENARIO [RESPONSE_ID]
const OpenAI = require('openai');

const client = new OpenAI({ apiKey: process.env.GATEWAY_KEY, baseURL: process.env.GATEWAY_URL + '/v1', maxRetries: 0, timeout: 15000 });
const model = process.env.MODEL;
const weatherTool = {
  type: 'function', name: 'get_weather', description: 'The weather in a city', strict: false,
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

function summary(r) {
  return {
    id: r.id, object: r.object, status: r.status, model: r.model, output_text: r.output_text, usage: r.usage,
    previous_response_id: r.previous_response_id ?? null,
    output: r.output.map(i => ({ type: i.type, id: i.id, call_id: i.call_id, name: i.name, arguments: i.arguments, role: i.role })),
  };
}

const scenarios = {
  async plain() {
    return summary(await client.responses.create({ model, instructions: 'Be brief.', input: 'Say hello' }));
  },
  async stream() {
    const stream = client.responses.stream({ model, input: 'Say hello' });
    const events = [];
    const sequence = [];
    let deltas = '';
    for await (const event of stream) {
      events.push(event.type);
      sequence.push(event.sequence_number);
      if (event.type === 'response.output_text.delta') deltas += event.delta;
    }
    return { events, sequence, deltas, ...summary(await stream.finalResponse()) };
  },
  async conversation() {
    const first = await client.responses.create({ model, input: 'Remember the number 7.' });
    const second = await client.responses.create({ model, input: 'Which number?', previous_response_id: first.id });
    const retrieved = await client.responses.retrieve(second.id);
    const items = await client.responses.inputItems.list(second.id);
    return { first: summary(first), second: summary(second), retrieved: summary(retrieved), items: items.data.map(i => ({ type: i.type, role: i.role })) };
  },
  async delete() {
    const made = await client.responses.create({ model, input: 'Say hello' });
    await client.responses.delete(made.id);
    try {
      await client.responses.retrieve(made.id);
      return { error: 'still there' };
    } catch (e) {
      return { deleted: made.id, status: e.status };
    }
  },
  // A response the upstream keeps (passthrough): made plainly or streamed (argument 'stream'), then read back, its
  // input items listed and deleted, all through the gateway; a retrieve after the delete reports its status.
  async kept() {
    let made;
    if (process.argv[3] === 'stream') {
      const stream = client.responses.stream({ model, input: 'Say hello' });
      for await (const event of stream) void event;
      made = await stream.finalResponse();
    } else {
      made = await client.responses.create({ model, input: 'Say hello' });
    }
    const retrieved = await client.responses.retrieve(made.id);
    const items = await client.responses.inputItems.list(made.id, { limit: 5 });
    await client.responses.delete(made.id);
    let afterDelete;
    try {
      await client.responses.retrieve(made.id);
      afterDelete = 'still there';
    } catch (e) {
      afterDelete = e.status;
    }
    return {
      made: summary(made), retrieved: summary(retrieved), afterDelete,
      items: items.data.map(i => ({ type: i.type, id: i.id, role: i.role, text: i.content?.[0]?.text })),
    };
  },
  async retrieve() {
    return summary(await client.responses.retrieve(process.argv[3]));
  },
  async tools() {
    const first = await client.responses.create({ model, tools: [weatherTool], input: 'Weather in Paris?' });
    const call = first.output.find(i => i.type === 'function_call');
    if (!call) return { first: summary(first), error: 'no function_call item' };
    const second = await client.responses.create({
      model, tools: [weatherTool], previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '18C and sunny' }],
    });
    return { first: summary(first), second: summary(second) };
  },
  async stream_tools() {
    const stream = client.responses.stream({ model, tools: [weatherTool], input: 'Weather in Rome?' });
    const events = [];
    let argumentDeltas = '';
    for await (const event of stream) {
      events.push(event.type);
      if (event.type === 'response.function_call_arguments.delta') argumentDeltas += event.delta;
    }
    return { events, argument_deltas: argumentDeltas, ...summary(await stream.finalResponse()) };
  },
};

(async () => {
  const run = scenarios[process.argv[2]];
  if (!run) throw new Error('unknown scenario ' + process.argv[2]);
  try {
    console.log(JSON.stringify({ ok: true, result: await run() }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, status: e.status ?? null, type: e.error?.type ?? null, message: e.message, name: e.constructor?.name }));
  }
})();
