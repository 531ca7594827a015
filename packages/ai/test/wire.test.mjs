// What crosses between the browser and the backend: no prompt, no token, no model name, no key
// in clear; stream frames padded; a cut or altered stream detected by the client.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createSecureOpenAI, createSecureAnthropic, NenError } from '@withnen/ai'
import { startWorld, within } from './support/harness.mjs'
import { REPLY, REPLY_TOKENS } from './support/upstream.mjs'

let w
before(async () => {
  w = await startWorld()
})
after(() => w.close())

const PROMPT = 'PROMPT-PLATYPUS: summarise my medical record 4471-SECRET'
const SYSTEM = 'SYSTEM-OCELOT instructions'

/** Every `data:` frame's ciphertext, from the decoded response bodies the client received. */
function frames(bodies) {
  return bodies.flatMap((b) => [...b.matchAll(/^data: ([A-Za-z0-9+/=]+)$/gm)].map((m) => Buffer.from(m[1], 'base64')))
}

test('no prompt, token, model name or key crosses the wire in clear', async () => {
  const world = await startWorld()
  try {
    const messages = [{ role: 'user', content: PROMPT }]
    const a = await world.openai.chat.completions.create({ model: 'gpt-test', messages })
    let b = ''
    for await (const c of await world.openai.chat.completions.create({ model: 'gpt-test', messages, stream: true })) b += c.choices[0]?.delta?.content ?? ''
    const c = await world.anthropic.messages.create({ model: 'claude-test', max_tokens: 50, system: SYSTEM, messages })
    const d = await world.anthropic.messages.stream({ model: 'claude-test', max_tokens: 50, system: SYSTEM, messages }).finalText()
    assert.deepEqual([a.choices[0].message.content, b, c.content[0].text, d], [REPLY, REPLY, REPLY, REPLY])

    const wire = { 'client → backend (raw)': world.tap.sent(), 'backend → client (raw)': world.tap.received(), 'HTTP bodies': world.recorder.bodies.join('\n') }
    // The capture is real: it holds the requests and the streams.
    assert.match(wire['client → backend (raw)'], /POST \/api\/ai\/openai\?stream=1 HTTP\/1\.1/)
    assert.match(wire['client → backend (raw)'], /x-nen-signature: /i)
    assert.match(wire['backend → client (raw)'], /content-type: text\/event-stream/i)
    assert.ok(frames(world.recorder.bodies).length >= 2 * REPLY_TOKENS.length)
    const plaintext = [
      PROMPT,
      'PLATYPUS',
      '4471-SECRET',
      SYSTEM,
      'OCELOT',
      ...REPLY_TOKENS.filter((t) => t.trim().length > 3).map((t) => t.trim()),
      'ZEBRA',
      'QUARTZ',
      'gpt-test',
      'claude-test',
      'chat.completion',
      'content_block_delta',
      'message_start',
      'max_tokens',
      'sk-test',
    ]
    for (const [where, text] of Object.entries(wire)) {
      for (const p of plaintext) assert.ok(!text.includes(p), `${JSON.stringify(p)} found in ${where}`)
    }
    // The other leg is plain HTTPS to the provider: it sees the prompt (as the README says).
    assert.ok(world.upstream.requests.every((r) => JSON.stringify(r.body).includes(PROMPT)))
  } finally {
    await world.close()
  }
})

test('stream frames are padded to 32-byte blocks by default, hiding token lengths', async () => {
  const world = await startWorld()
  try {
    for await (const _ of await world.openai.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true }));
    const sizes = frames(world.recorder.bodies).map((f) => f.length - 16) // minus the AEAD tag
    assert.ok(sizes.length > REPLY_TOKENS.length)
    for (const s of sizes) assert.equal(s % 32, 0, `frame of ${s} bytes`)
    // Chunks that differ only in the token ("The" vs " answer" vs "-two") have the same size.
    assert.ok(new Set(sizes.slice(1, 1 + REPLY_TOKENS.length)).size < REPLY_TOKENS.length)
  } finally {
    await world.close()
  }
  const unpadded = await startWorld({ route: { padBlock: 0 } })
  try {
    for await (const _ of await unpadded.openai.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true }));
    const sizes = frames(unpadded.recorder.bodies).map((f) => f.length - 16)
    assert.ok(
      sizes.some((s) => s % 32 !== 0),
      'padBlock: 0 turns padding off',
    )
  } finally {
    await unpadded.close()
  }
})

test('a stream cut on the network between backend and client: ISO-7003, and the provider call is cancelled', async () => {
  w.tap.cutAfterFrames(4)
  const seen = []
  const err = await (async () => {
    for await (const c of await w.openai.chat.completions.create({ model: 'gpt-slow', messages: [{ role: 'user', content: 'hi' }], stream: true })) seen.push(c)
  })().catch((e) => e)
  assert.ok(err instanceof NenError, String(err))
  assert.equal(err.code, 'ISO-7003')
  assert.equal(seen.length, 4)
  const up = w.lastUpstream()
  assert.equal(up.body.model, 'gpt-slow')
  await within(3000, up.closed, 'upstream close')
  assert.equal(up.closedEarly, true)
  assert.ok(up.sent < 400)
})

/** A fetch whose SSE responses pass through `edit(frameIndex, frameText)` (null drops the rest). */
function editingFetch(edit) {
  return async (input, init) => {
    const res = await fetch(input, init)
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return res
    const reader = res.body.getReader()
    const enc = new TextEncoder()
    const dec = new TextDecoder()
    let buf = ''
    let i = 0
    const body = new ReadableStream({
      async pull(controller) {
        for (;;) {
          const at = buf.indexOf('\n\n')
          if (at >= 0) {
            const frame = buf.slice(0, at + 2)
            buf = buf.slice(at + 2)
            const out = edit(i++, frame)
            if (out === null) {
              await reader.cancel()
              return controller.close() // a clean end, as a proxy that stops forwarding would give
            }
            return controller.enqueue(enc.encode(out))
          }
          const { done, value } = await reader.read()
          if (done) return controller.close()
          buf += dec.decode(value, { stream: true })
        }
      },
      cancel: () => reader.cancel(),
    })
    return new Response(body, { status: res.status, headers: res.headers })
  }
}

test('a stream ended early (cleanly) by a hop: ISO-7003 for both providers', async () => {
  const options = { baseUrl: w.tap.url, fetch: editingFetch((i, f) => (i < 3 ? f : null)) }
  const openai = createSecureOpenAI(options)
  const err1 = await (async () => {
    for await (const _ of openai.chat.completions.stream({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }));
  })().catch((e) => e)
  assert.equal(err1?.code, 'ISO-7003')
  const anthropic = createSecureAnthropic(options)
  const err2 = await anthropic.messages
    .stream({ model: 'claude-test', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
    .finalMessage()
    .catch((e) => e)
  assert.ok(err2 instanceof NenError)
  assert.equal(err2.code, 'ISO-7003')
})

test('a frame altered in transit: ISO-7004, nothing after it is used', async () => {
  const flip = (f) => f.replace(/^data: (.)/m, (_, c) => `data: ${c === 'A' ? 'B' : 'A'}`)
  const openai = createSecureOpenAI({ baseUrl: w.tap.url, fetch: editingFetch((i, f) => (i === 2 ? flip(f) : f)) })
  const seen = []
  const err = await (async () => {
    for await (const c of await openai.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true })) seen.push(c)
  })().catch((e) => e)
  assert.equal(err?.code, 'ISO-7004')
  assert.equal(seen.length, 2)
})

test('the route only answers Nen requests: a plain request never reaches the provider', async () => {
  const before = w.upstream.requests.length
  for (const path of ['/api/ai/openai', '/api/ai/openai?stream=1', '/api/ai/anthropic']) {
    const res = await fetch(`${w.tap.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }),
    })
    assert.equal(res.status, 400)
    assert.equal((await res.json()).error.code, 'ISO-1005') // no X-Nen-Version: not a Nen request
    const forged = await fetch(`${w.tap.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-nen-version': '1' }, body: '{"ct":"AAAA"}' })
    assert.equal(forged.status, 401)
    assert.equal((await forged.json()).error.code, 'ISO-2003')
  }
  assert.equal(w.upstream.requests.length, before)
})

test('a request replayed on the wire is refused (ISO-5001) and not sent to the provider twice', async () => {
  let captured
  const capturing = async (input, init) => {
    if (String(input).includes('/api/ai/')) captured = { input: String(input), init: { method: init.method, headers: init.headers, body: init.body } }
    return fetch(input, init)
  }
  const openai = createSecureOpenAI({ baseUrl: w.tap.url, fetch: capturing })
  await openai.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  const before = w.upstream.requests.length
  const res = await fetch(captured.input, captured.init)
  assert.equal(res.status, 401)
  assert.equal((await res.json()).error.code, 'ISO-5001')
  assert.equal(w.upstream.requests.length, before)
})

test('a backend that forgot the session (restart): by default the call fails with ISO-2002 and is not resent', async () => {
  const world = await startWorld()
  try {
    const messages = [{ role: 'user', content: 'hi' }]
    await world.openai.chat.completions.create({ model: 'gpt-test', messages })
    world.restartBackend()
    const calls = world.upstream.requests.length
    await assert.rejects(world.openai.chat.completions.create({ model: 'gpt-test', messages }), (e) => e.code === 'ISO-2002')
    assert.equal(world.upstream.requests.length, calls, 'the refused call never reached the provider, and was not resent')
    // The session was dropped: the next call handshakes again and succeeds.
    const c = await world.openai.chat.completions.create({ model: 'gpt-test', messages })
    assert.equal(c.choices[0].message.content, REPLY)
  } finally {
    await world.close()
  }
})

test('with retryOnExpiredSession the client handshakes again and resends once', async () => {
  const world = await startWorld({ retryOnExpiredSession: true })
  try {
    const messages = [{ role: 'user', content: 'hi' }]
    await world.openai.chat.completions.create({ model: 'gpt-test', messages })
    const sid = world.openai.nen.sessionId
    world.restartBackend()
    const calls = world.upstream.requests.length
    const c = await world.openai.chat.completions.create({ model: 'gpt-test', messages })
    assert.equal(c.choices[0].message.content, REPLY)
    assert.notEqual(world.openai.nen.sessionId, sid)
    await world.anthropic.messages.create({ model: 'claude-test', max_tokens: 5, messages })
    const sid2 = world.anthropic.nen.sessionId
    world.restartBackend()
    let text = ''
    for await (const e of await world.anthropic.messages.create({ model: 'claude-test', max_tokens: 5, messages, stream: true })) if (e.type === 'content_block_delta') text += e.delta.text
    assert.equal(text, REPLY)
    assert.notEqual(world.anthropic.nen.sessionId, sid2)
    assert.equal(world.upstream.requests.length, calls + 3) // the refused attempts never reached the provider
  } finally {
    await world.close()
  }
})
