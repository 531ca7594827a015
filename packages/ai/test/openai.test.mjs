// createSecureOpenAI ⇄ withSecureAI(openAIProvider) ⇄ the official `openai` SDK ⇄ a local
// OpenAI-compatible server. Every call crosses a real loopback connection through Nen.

import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { NenError, SecureAIError, SecureStream, SecureChatCompletionStream } from '@withnen/ai'
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

/** The secret must be nowhere the browser or the wire can see. */
function assertNoLeak(err) {
  assert.ok(!String(err?.message).includes(UPSTREAM_SECRET), 'error message')
  assert.ok(!String(err?.stack).includes(UPSTREAM_SECRET), 'error stack')
  assert.ok(!JSON.stringify(err ?? null).includes(UPSTREAM_SECRET), 'serialised error')
  assert.ok(!w.tap.received().includes(UPSTREAM_SECRET), 'bytes received by the client')
  assert.ok(!w.recorder.bodies.join('\n').includes(UPSTREAM_SECRET), 'bodies received by the client')
}

test('create: resolves to the ChatCompletion the provider returned', async () => {
  const completion = await w.openai.chat.completions.create({ model: 'gpt-test', messages, temperature: 0.2 })
  assert.equal(completion.object, 'chat.completion')
  assert.equal(completion.id, 'chatcmpl-test-1')
  assert.equal(completion.model, 'gpt-test')
  assert.deepEqual(completion.choices, [{ index: 0, message: { role: 'assistant', content: REPLY, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }])
  assert.equal(completion.usage.completion_tokens, REPLY_TOKENS.length)
  // The provider got the params with the server's key, not anything from the browser.
  const up = w.lastUpstream()
  assert.equal(up.path, '/v1/chat/completions')
  assert.equal(up.headers.authorization, 'Bearer sk-test-openai')
  assert.deepEqual(up.body, { model: 'gpt-test', messages, temperature: 0.2, stream: false })
})

test('create with stream: true: an async iterable of ChatCompletionChunks', async () => {
  const stream = await w.openai.chat.completions.create({ model: 'gpt-test', messages, stream: true, stream_options: { include_usage: true } })
  assert.ok(stream instanceof SecureStream)
  assert.ok(stream.controller instanceof AbortController)
  const chunks = []
  for await (const chunk of stream) chunks.push(chunk)
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === 'chatcmpl-test-1'))
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), REPLY)
  assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '', refusal: null })
  assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop')
  assert.deepEqual(chunks.at(-1).choices, [])
  assert.equal(chunks.at(-1).usage.completion_tokens, REPLY_TOKENS.length)
  assert.equal(chunks.length, 1 + REPLY_TOKENS.length + 2)
  assert.equal(w.lastUpstream().body.stream, true)
  assert.deepEqual(w.lastUpstream().body.stream_options, { include_usage: true })
  // A stream is read once, as with the SDK.
  await assert.rejects(async () => {
    for await (const _ of stream);
  }, /consumed/)
})

test('stream(): iterates the text deltas as strings; content events and finalChatCompletion()', async () => {
  const stream = w.openai.chat.completions.stream({ model: 'gpt-test', messages })
  assert.ok(stream instanceof SecureChatCompletionStream)
  const events = []
  const snapshots = []
  stream.on('content', (delta, snapshot) => {
    events.push(delta)
    snapshots.push(snapshot)
  })
  const deltas = []
  for await (const delta of stream) deltas.push(delta)
  // Exactly the provider's tokens: the role chunk (content '') and the finish chunk carry no text.
  assert.deepEqual(deltas, ['The', ' answer', ' is', ' ZEBRA', 'QUARTZ', ' forty', '-two', '.'])
  assert.deepEqual(events, deltas)
  assert.equal(snapshots.at(-1), 'The answer is ZEBRAQUARTZ forty-two.')
  const final = await stream.finalChatCompletion()
  assert.equal(final.object, 'chat.completion')
  assert.equal(final.id, 'chatcmpl-test-1')
  assert.equal(final.system_fingerprint, 'fp_test')
  assert.deepEqual(final.choices, [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: REPLY, refusal: null } }])
  assert.equal(await stream.finalContent(), REPLY)
  // One read: the raw view of a stream already read throws, as a second loop does.
  await assert.rejects(async () => {
    for await (const _ of stream.chunks());
  }, /consumed/)
})

test('stream().chunks(): the raw view yields the SDK-shaped ChatCompletionChunks', async () => {
  const stream = w.openai.chat.completions.stream({ model: 'gpt-test', messages, stream_options: { include_usage: true } })
  const chunks = []
  for await (const chunk of stream.chunks()) chunks.push(chunk)
  assert.equal(chunks.length, 1 + REPLY_TOKENS.length + 2)
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === 'chatcmpl-test-1' && c.model === 'gpt-test'))
  assert.deepEqual(chunks[0].choices, [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }])
  assert.deepEqual(
    chunks.slice(1, -2).map((c) => c.choices[0].delta),
    REPLY_TOKENS.map((content) => ({ content })),
  )
  assert.deepEqual(chunks.at(-2).choices, [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }])
  assert.deepEqual(chunks.at(-1).choices, [])
  assert.equal(chunks.at(-1).usage.completion_tokens, REPLY_TOKENS.length)
  assert.equal((await stream.finalChatCompletion()).usage.completion_tokens, REPLY_TOKENS.length)
  await assert.rejects(async () => {
    for await (const _ of stream);
  }, /consumed/)
})

test('stream(): a tool-call answer has no text deltas; chunks() carries the calls', async () => {
  const deltas = []
  for await (const d of w.openai.chat.completions.stream({ model: 'gpt-tool', messages })) deltas.push(d)
  assert.deepEqual(deltas, [])
  const parts = []
  for await (const c of w.openai.chat.completions.stream({ model: 'gpt-tool', messages }).chunks()) for (const t of c.choices[0]?.delta?.tool_calls ?? []) parts.push(t.function?.arguments)
  assert.deepEqual(parts, ['', '{"ci', 'ty":"', 'Oslo"}'])
})

test('stream(): finalChatCompletion() without iterating; tool calls are assembled', async () => {
  const final = await w.openai.chat.completions.stream({ model: 'gpt-tool', messages }).finalChatCompletion()
  assert.equal(final.choices[0].finish_reason, 'tool_calls')
  assert.deepEqual(final.choices[0].message.tool_calls, [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"city":"Oslo"}' } }])
  assert.equal(final.choices[0].message.content, null)
  const complete = await w.openai.chat.completions.create({ model: 'gpt-tool', messages })
  assert.deepEqual(complete.choices[0].message.tool_calls, final.choices[0].message.tool_calls)
})

test('allow-list: only the allowed params reach the provider', async () => {
  const sent = {
    model: 'gpt-test',
    messages,
    max_tokens: 50,
    temperature: 1,
    seed: 7,
    tools: [{ type: 'function', function: { name: 'rm_rf', parameters: {} } }],
    tool_choice: 'required',
    n: 8,
    store: true,
    metadata: { a: 'b' },
    service_tier: 'priority',
    user: 'someone',
    logit_bias: { 1: 100 },
    web_search_options: {},
    stream_options: { include_usage: true, include_obfuscation: false },
  }
  await w.openai.chat.completions.create(sent)
  assert.deepEqual(w.lastUpstream().body, { model: 'gpt-test', messages, max_tokens: 50, temperature: 1, seed: 7, stream: false })
  for await (const _ of await w.openai.chat.completions.create({ ...sent, stream: true }));
  assert.deepEqual(w.lastUpstream().body, { model: 'gpt-test', messages, max_tokens: 50, temperature: 1, seed: 7, stream_options: { include_usage: true }, stream: true })
})

test('policy: model list, default model, token cap, extra allowed params, transform', async () => {
  const world = await startWorld({
    openai: { models: ['gpt-test', 'gpt-tool'], model: 'gpt-test', maxTokens: 64, allowParams: ['user'] },
    route: { transform: (p) => ({ ...p, messages: [{ role: 'system', content: 'Be brief.' }, ...p.messages] }) },
  })
  try {
    await world.openai.chat.completions.create({ model: 'gpt-4-expensive', messages, max_tokens: 100_000, max_completion_tokens: 10, user: 'u1', n: 3 })
    assert.deepEqual(world.lastUpstream().body, {
      model: 'gpt-test',
      messages: [{ role: 'system', content: 'Be brief.' }, ...messages],
      max_tokens: 64,
      max_completion_tokens: 10,
      user: 'u1',
      stream: false,
    })
    await world.openai.chat.completions.create({ model: 'gpt-tool', messages })
    assert.equal(world.lastUpstream().body.model, 'gpt-tool')
    await world.openai.chat.completions.create({ messages })
    assert.equal(world.lastUpstream().body.model, 'gpt-test')
  } finally {
    await world.close()
  }
})

test('upstream HTTP 500 on create: ISO-9000, status 502, upstreamStatus 500, no provider text', async () => {
  const { lines } = await captureConsole(async () => {
    const err = await w.openai.chat.completions.create({ model: 'gpt-fail-500', messages }).catch((e) => e)
    assert.ok(err instanceof SecureAIError)
    assert.ok(err instanceof NenError)
    assert.equal(err.code, 'ISO-9000')
    assert.equal(err.status, 502)
    assert.equal(err.upstreamStatus, 500)
    assert.equal(err.authenticated, true)
    assertNoLeak(err)
  })
  assert.deepEqual(
    w.errors.map(({ provider, phase, code, status, upstreamStatus, kind }) => ({ provider, phase, code, status, upstreamStatus, kind })),
    [{ provider: 'openai', phase: 'create', code: 'ISO-9000', status: 502, upstreamStatus: 500, kind: 'http' }],
  )
  // onError gets the original for the app's own use; nothing was printed with the secret.
  assert.ok(String(w.errors[0].error.upstream.message).includes(UPSTREAM_SECRET))
  assert.ok(!w.errors[0].error.message.includes(UPSTREAM_SECRET))
  assert.ok(!JSON.stringify(w.errors[0].error).includes(UPSTREAM_SECRET))
  assert.ok(!lines.join('\n').includes(UPSTREAM_SECRET))
})

test('upstream HTTP 429: passed on as 429 so the page can back off', async () => {
  const err = await w.openai.chat.completions.create({ model: 'gpt-rate-limit', messages }).catch((e) => e)
  assert.equal(err.code, 'ISO-9000')
  assert.equal(err.status, 429)
  assert.equal(err.upstreamStatus, 429)
  assertNoLeak(err)
})

test('upstream HTTP 500 before a stream starts: ISO-7002, sealed with status 502', async () => {
  const stream = await w.openai.chat.completions.create({ model: 'gpt-fail-500', messages, stream: true })
  const err = await (async () => {
    for await (const _ of stream);
  })().catch((e) => e)
  assert.ok(err instanceof NenError)
  assert.equal(err.code, 'ISO-7002')
  assert.equal(err.status, 502)
  assert.equal(err.authenticated, true)
  assertNoLeak(err)
  assert.equal(w.errors[0].phase, 'stream')
  assert.equal(w.errors[0].upstreamStatus, 500)
})

for (const [model, what] of [
  ['gpt-cut', 'the provider connection drops mid-stream'],
  ['gpt-early-end', 'the provider ends the response early without finishing'],
  ['gpt-error-event', 'the provider sends an error event mid-stream'],
]) {
  test(`${what}: the chunks so far, then ISO-7002 without provider text`, async () => {
    const seen = []
    const { lines } = await captureConsole(async () => {
      const err = await (async () => {
        for await (const chunk of await w.openai.chat.completions.create({ model, messages, stream: true })) seen.push(chunk.choices[0]?.delta?.content ?? '')
      })().catch((e) => e)
      assert.ok(err instanceof NenError, String(err))
      assert.equal(err.code, 'ISO-7002')
      assertNoLeak(err)
    })
    assert.deepEqual(seen, ['', ...REPLY_TOKENS.slice(0, 3)])
    assert.equal(w.errors.length, 1)
    assert.equal(w.errors[0].code, 'ISO-7002')
    assert.equal(w.errors[0].kind, 'failed')
    assert.ok(!lines.join('\n').includes(UPSTREAM_SECRET))
  })
}

test('the default onError prints one line without provider text', async () => {
  const world = await startWorld({ route: { onError: undefined } })
  try {
    const { lines } = await captureConsole(async () => {
      await world.openai.chat.completions.create({ model: 'gpt-fail-500', messages }).catch(() => {})
      await (async () => {
        for await (const _ of await world.openai.chat.completions.create({ model: 'gpt-error-event', messages, stream: true }));
      })().catch(() => {})
    })
    assert.deepEqual(lines, ['[@withnen/ai] openai create failed: http (HTTP 500); answered ISO-9000', '[@withnen/ai] openai stream failed: failed; answered ISO-7002'])
  } finally {
    await world.close()
  }
})

test('abort mid-stream ({ signal }): the read rejects with AbortError and the provider request is cancelled', async () => {
  const controller = new AbortController()
  const stream = await w.openai.chat.completions.create({ model: 'gpt-slow', messages, stream: true }, { signal: controller.signal })
  let n = 0
  const err = await (async () => {
    for await (const _ of stream) if (++n === 4) controller.abort()
  })().catch((e) => e)
  assert.equal(err?.name, 'AbortError')
  const up = w.lastUpstream()
  assert.equal(up.body.model, 'gpt-slow')
  await within(3000, up.closed, 'upstream close')
  assert.equal(up.closedEarly, true)
  assert.ok(up.sent < 400, `upstream stopped early (sent ${up.sent})`)
  assert.deepEqual(w.errors, []) // a cancelled call is not reported as a failure
})

for (const view of ['deltas', 'chunks()']) {
  test(`breaking out of the loop over stream() ${view} cancels the provider request`, async () => {
    const stream = w.openai.chat.completions.stream({ model: 'gpt-slow', messages })
    const seen = []
    for await (const item of view === 'deltas' ? stream : stream.chunks()) {
      seen.push(item)
      if (seen.length === 3) break
    }
    if (view === 'deltas') assert.deepEqual(seen, ['The', ' answer', ' is'])
    else
      assert.deepEqual(
        seen.map((c) => c.choices[0].delta.content),
        ['', 'The', ' answer'],
      )
    const up = w.lastUpstream()
    await within(3000, up.closed, 'upstream close')
    assert.equal(up.closedEarly, true)
    assert.ok(up.sent < 400)
    assert.equal(stream.controller.signal.aborted, true)
    assert.deepEqual(w.errors, [])
  })
}

test('abort mid-stream while reading stream() deltas: AbortError after the deltas so far', async () => {
  const controller = new AbortController()
  const stream = w.openai.chat.completions.stream({ model: 'gpt-slow', messages }, { signal: controller.signal })
  const seen = []
  const err = await (async () => {
    for await (const d of stream) if (seen.push(d) === 4) controller.abort()
  })().catch((e) => e)
  assert.equal(err?.name, 'AbortError')
  assert.deepEqual(seen, ['The', ' answer', ' is', ' ZEBRA'])
  assert.equal((await stream.finalChatCompletion().catch((e) => e))?.name, 'AbortError')
  await within(3000, w.lastUpstream().closed, 'upstream close')
  assert.equal(w.lastUpstream().closedEarly, true)
})

test('provider failure mid-stream while reading stream() deltas: the deltas so far, then ISO-7002', async () => {
  const seen = []
  const err = await (async () => {
    for await (const d of w.openai.chat.completions.stream({ model: 'gpt-error-event', messages })) seen.push(d)
  })().catch((e) => e)
  assert.ok(err instanceof NenError)
  assert.equal(err.code, 'ISO-7002')
  assertNoLeak(err)
  assert.deepEqual(seen, ['The', ' answer', ' is'])
})

test('abort of a complete call cancels the provider request', async () => {
  const controller = new AbortController()
  const pending = w.openai.chat.completions.create({ model: 'gpt-hang', messages }, { signal: controller.signal })
  // Wait until the backend has called the provider.
  await within(
    3000,
    (async () => {
      while (w.lastUpstream()?.body.model !== 'gpt-hang') await new Promise((r) => setTimeout(r, 10))
    })(),
    'provider call',
  )
  controller.abort()
  const err = await pending.catch((e) => e)
  assert.equal(err?.name, 'AbortError')
  const up = w.lastUpstream()
  await within(3000, up.closed, 'upstream close')
  assert.equal(up.closedEarly, true)
})

test('an already aborted signal sends nothing', async () => {
  const before = w.upstream.requests.length
  const err = await w.openai.chat.completions.create({ model: 'gpt-test', messages }, { signal: AbortSignal.abort() }).catch((e) => e)
  assert.equal(err?.name, 'AbortError')
  assert.equal(w.upstream.requests.length, before)
})
