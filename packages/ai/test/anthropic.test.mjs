// createSecureAnthropic ⇄ withSecureAI(anthropicProvider) ⇄ the official `@anthropic-ai/sdk` ⇄ a
// local Anthropic-compatible server. Every call crosses a real loopback connection through Nen.

import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { NenError, SecureAIError, SecureStream, SecureMessageStream } from '@withnen/ai'
import { startWorld, within, captureConsole } from './support/harness.mjs'
import { REPLY, REPLY_TOKENS, UPSTREAM_SECRET } from './support/upstream.mjs'

let w
const messages = [{ role: 'user', content: 'What is the answer?' }]

before(async () => {
  w = await startWorld()
})
after(() => w.close())
beforeEach(() => {
  w.errors.length = 0
})

function assertNoLeak(err) {
  assert.ok(!String(err?.message).includes(UPSTREAM_SECRET), 'error message')
  assert.ok(!String(err?.stack).includes(UPSTREAM_SECRET), 'error stack')
  assert.ok(!JSON.stringify(err ?? null).includes(UPSTREAM_SECRET), 'serialised error')
  assert.ok(!w.tap.received().includes(UPSTREAM_SECRET), 'bytes received by the client')
  assert.ok(!w.recorder.bodies.join('\n').includes(UPSTREAM_SECRET), 'bodies received by the client')
}

test('create: resolves to the Message the provider returned', async () => {
  const message = await w.anthropic.messages.create({ model: 'claude-test', max_tokens: 100, system: 'Be brief.', messages })
  assert.equal(message.type, 'message')
  assert.equal(message.id, 'msg_test_1')
  assert.equal(message.role, 'assistant')
  assert.deepEqual(message.content, [{ type: 'text', text: REPLY, citations: null }])
  assert.equal(message.stop_reason, 'end_turn')
  assert.equal(message.usage.output_tokens, REPLY_TOKENS.length)
  const up = w.lastUpstream()
  assert.equal(up.path, '/v1/messages')
  assert.ok(up.headers['anthropic-version'])
  assert.deepEqual(up.body, { model: 'claude-test', max_tokens: 100, system: 'Be brief.', messages, stream: false })
})

test('create with stream: true: an async iterable of MessageStreamEvents', async () => {
  const stream = await w.anthropic.messages.create({ model: 'claude-test', max_tokens: 100, messages, stream: true })
  assert.ok(stream instanceof SecureStream)
  const events = []
  for await (const event of stream) events.push(event)
  assert.deepEqual(
    events.map((e) => e.type),
    ['message_start', 'content_block_start', ...REPLY_TOKENS.map(() => 'content_block_delta'), 'content_block_stop', 'message_delta', 'message_stop'],
  )
  assert.equal(events[0].message.id, 'msg_test_1')
  assert.equal(
    events
      .filter((e) => e.type === 'content_block_delta')
      .map((e) => e.delta.text)
      .join(''),
    REPLY,
  )
  assert.equal(events.at(-2).delta.stop_reason, 'end_turn')
  assert.equal(w.lastUpstream().body.stream, true)
})

test('stream(): iterates the text deltas as strings; text events, finalMessage() and finalText()', async () => {
  const stream = w.anthropic.messages.stream({ model: 'claude-test', max_tokens: 100, messages })
  assert.ok(stream instanceof SecureMessageStream)
  const events = []
  let last
  stream.on('text', (delta, snapshot) => {
    events.push(delta)
    last = snapshot
  })
  const deltas = []
  for await (const delta of stream) deltas.push(delta)
  assert.deepEqual(deltas, ['The', ' answer', ' is', ' ZEBRA', 'QUARTZ', ' forty', '-two', '.'])
  assert.deepEqual(events, deltas)
  assert.equal(last, 'The answer is ZEBRAQUARTZ forty-two.')
  const final = await stream.finalMessage()
  assert.equal(final.id, 'msg_test_1')
  assert.deepEqual(final.content, [{ type: 'text', text: REPLY, citations: null }])
  assert.equal(final.stop_reason, 'end_turn')
  assert.equal(final.stop_sequence, null)
  assert.equal(final.usage.output_tokens, REPLY_TOKENS.length)
  assert.equal(final.usage.input_tokens, JSON.stringify(messages).length) // a null in the delta keeps the start's value
  assert.equal(await stream.finalText(), REPLY)
  await assert.rejects(async () => {
    for await (const _ of stream.events());
  }, /consumed/)
})

test('stream().events(): the raw view yields the SDK-shaped MessageStreamEvents', async () => {
  const stream = w.anthropic.messages.stream({ model: 'claude-test', max_tokens: 100, messages })
  const events = []
  for await (const event of stream.events()) events.push(event)
  assert.deepEqual(
    events.map((e) => e.type),
    ['message_start', 'content_block_start', ...REPLY_TOKENS.map(() => 'content_block_delta'), 'content_block_stop', 'message_delta', 'message_stop'],
  )
  assert.equal(events[0].message.id, 'msg_test_1')
  assert.deepEqual(events[1], { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', citations: null } })
  assert.deepEqual(
    events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta),
    REPLY_TOKENS.map((text) => ({ type: 'text_delta', text })),
  )
  assert.equal(events.at(-2).delta.stop_reason, 'end_turn')
  assert.equal(await stream.finalText(), REPLY)
  await assert.rejects(async () => {
    for await (const _ of stream);
  }, /consumed/)
})

test('stream(): tool-use input is assembled from its JSON deltas; only text is a delta', async () => {
  const stream = w.anthropic.messages.stream({ model: 'claude-tool', max_tokens: 100, messages })
  const deltas = []
  for await (const d of stream) deltas.push(d)
  assert.deepEqual(deltas, REPLY_TOKENS) // the tool input's JSON deltas are not text
  const final = await stream.finalMessage()
  assert.equal(final.stop_reason, 'tool_use')
  assert.deepEqual(final.content[1], { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { city: 'Oslo' }, caller: { type: 'direct' } })
  let count = 0
  for await (const _ of w.anthropic.messages.stream({ model: 'claude-tool', max_tokens: 100, messages }).events()) count++
  assert.equal(count, 2 + REPLY_TOKENS.length + 1 + 1 + 3 + 1 + 2) // the SDK drops the provider's ping
})

test('allow-list: only the allowed params reach the provider; max_tokens defaults', async () => {
  await w.anthropic.messages.create({
    model: 'claude-test',
    messages,
    system: 'S',
    stop_sequences: ['\n\n'],
    tools: [{ name: 'rm_rf', input_schema: { type: 'object' } }],
    tool_choice: { type: 'any' },
    thinking: { type: 'enabled', budget_tokens: 50_000 },
    metadata: { user_id: 'u' },
    service_tier: 'auto',
    mcp_servers: [{ url: 'https://evil.example' }],
  })
  assert.deepEqual(w.lastUpstream().body, { model: 'claude-test', messages, system: 'S', stop_sequences: ['\n\n'], max_tokens: 1024, stream: false })
})

test('policy: fixed model and token cap', async () => {
  const world = await startWorld({ anthropic: { model: 'claude-test', maxTokens: 200 } })
  try {
    for await (const _ of await world.anthropic.messages.create({ model: 'claude-opus-expensive', max_tokens: 64_000, messages, stream: true }));
    assert.deepEqual(world.lastUpstream().body, { model: 'claude-test', max_tokens: 200, messages, stream: true })
    await world.anthropic.messages.create({ model: 'claude-test', messages })
    assert.equal(world.lastUpstream().body.max_tokens, 200)
  } finally {
    await world.close()
  }
})

test('upstream HTTP 500 on create: ISO-9000, status 502, upstreamStatus 500, no provider text', async () => {
  const { lines } = await captureConsole(async () => {
    const err = await w.anthropic.messages.create({ model: 'claude-fail-500', max_tokens: 10, messages }).catch((e) => e)
    assert.ok(err instanceof SecureAIError)
    assert.equal(err.code, 'ISO-9000')
    assert.equal(err.status, 502)
    assert.equal(err.upstreamStatus, 500)
    assertNoLeak(err)
  })
  assert.equal(w.errors.length, 1)
  assert.equal(w.errors[0].provider, 'anthropic')
  assert.ok(!lines.join('\n').includes(UPSTREAM_SECRET))
})

test('upstream HTTP 500 before a stream starts: ISO-7002 (sealed, 502)', async () => {
  const err = await (async () => {
    for await (const _ of w.anthropic.messages.stream({ model: 'claude-fail-500', max_tokens: 10, messages }));
  })().catch((e) => e)
  assert.ok(err instanceof NenError)
  assert.equal(err.code, 'ISO-7002')
  assert.equal(err.status, 502)
  assert.equal(err.authenticated, true)
  assertNoLeak(err)
})

for (const [model, what] of [
  ['claude-error-event', 'the provider sends an error event mid-stream'],
  ['claude-cut', 'the provider connection drops mid-stream'],
]) {
  test(`${what}: the events so far, then ISO-7002 without provider text`, async () => {
    const stream = w.anthropic.messages.stream({ model, max_tokens: 10, messages })
    const types = []
    const err = await (async () => {
      for await (const e of stream.events()) types.push(e.type)
    })().catch((e) => e)
    assert.ok(err instanceof NenError)
    assert.equal(err.code, 'ISO-7002')
    assertNoLeak(err)
    assert.deepEqual(types, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta'])
    // The final helpers reject with the same error.
    const final = await stream.finalMessage().catch((e) => e)
    assert.equal(final, err)
    assert.equal(w.errors.length, 1)
    assert.equal(w.errors[0].kind, 'failed')
  })
}

test('the provider fails mid-stream while reading the deltas: the deltas so far, then ISO-7002', async () => {
  const deltas = []
  const err = await (async () => {
    for await (const d of w.anthropic.messages.stream({ model: 'claude-error-event', max_tokens: 10, messages })) deltas.push(d)
  })().catch((e) => e)
  assert.equal(err?.code, 'ISO-7002')
  assertNoLeak(err)
  assert.deepEqual(deltas, ['The', ' answer', ' is'])
})

test('breaking out of the deltas loop cancels the provider request', async () => {
  const stream = w.anthropic.messages.stream({ model: 'claude-slow', max_tokens: 10, messages })
  const seen = []
  for await (const d of stream) if (seen.push(d) === 2) break
  assert.deepEqual(seen, ['The', ' answer'])
  const up = w.lastUpstream()
  await within(3000, up.closed, 'upstream close')
  assert.equal(up.closedEarly, true)
  assert.equal(stream.controller.signal.aborted, true)
  assert.deepEqual(w.errors, [])
})

test('abort mid-stream: AbortError, and the provider request is cancelled', async () => {
  const controller = new AbortController()
  const stream = w.anthropic.messages.stream({ model: 'claude-slow', max_tokens: 10, messages }, { signal: controller.signal })
  let n = 0
  const err = await (async () => {
    for await (const _ of stream) if (++n === 5) controller.abort()
  })().catch((e) => e)
  assert.equal(err?.name, 'AbortError')
  const up = w.lastUpstream()
  assert.equal(up.body.model, 'claude-slow')
  await within(3000, up.closed, 'upstream close')
  assert.equal(up.closedEarly, true)
  assert.ok(up.sent < 400)
  assert.deepEqual(w.errors, [])
})

test('stream.abort() cancels the provider request', async () => {
  const stream = w.anthropic.messages.stream({ model: 'claude-slow', max_tokens: 10, messages })
  const texts = []
  stream.on('text', (t) => {
    texts.push(t)
    if (texts.length === 3) stream.abort()
  })
  const err = await stream.done().catch((e) => e)
  assert.equal(err?.name, 'AbortError')
  const up = w.lastUpstream()
  await within(3000, up.closed, 'upstream close')
  assert.equal(up.closedEarly, true)
})

test('abort of a complete call cancels the provider request', async () => {
  const controller = new AbortController()
  const pending = w.anthropic.messages.create({ model: 'claude-hang', max_tokens: 10, messages }, { signal: controller.signal })
  await within(
    3000,
    (async () => {
      while (w.lastUpstream()?.body.model !== 'claude-hang') await new Promise((r) => setTimeout(r, 10))
    })(),
    'provider call',
  )
  controller.abort()
  assert.equal((await pending.catch((e) => e))?.name, 'AbortError')
  const up = w.lastUpstream()
  await within(3000, up.closed, 'upstream close')
  assert.equal(up.closedEarly, true)
})
