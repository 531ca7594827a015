// withSecureAI with a provider of your own (the SecureAIProvider interface), and the allow-list
// policy on its own.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createNen, createNenRoute } from '@withnen/server'
import { withSecureAI, applyPolicy, UpstreamError, OPENAI_ALLOWED_PARAMS, ANTHROPIC_ALLOWED_PARAMS } from '@withnen/ai/server'
import { createSecureOpenAI, NenError, SecureAIError } from '@withnen/ai'
import { startBackend, startWiretap } from './support/backend.mjs'
import { captureConsole } from './support/harness.mjs'

const SECRET = 'sk-CUSTOM-PROVIDER-LEAK-91c2'
let backend, tap, calls, client

/** A provider that fails the way a hand-written one would: raw errors quoting secrets. */
const custom = {
  name: 'custom',
  prepare: (params) => applyPolicy(params, ['model', 'messages'], [], {}),
  async create(params, signal) {
    calls.push({ kind: 'create', params, signal })
    if (params.model === 'fail') throw Object.assign(new Error(`upstream said: ${SECRET}`), { status: 503 })
    return { echo: params }
  },
  async *stream(params, signal) {
    calls.push({ kind: 'stream', params, signal })
    if (params.model === 'fail-first') throw Object.assign(new Error(`refused: ${SECRET}`), { status: 401 })
    yield { n: 1 }
    yield { n: 2 }
    if (params.model === 'fail-mid-now') throw new Error(`mid-stream: ${SECRET}`)
    if (params.model === 'fail-mid') {
      // The pause sends the error end in a network read of its own (fail-mid-now: in the same one).
      await new Promise((r) => setTimeout(r, 30))
      throw new Error(`mid-stream: ${SECRET}`)
    }
    yield { n: 3 }
  },
}

before(async () => {
  const nen = createNen({})
  const routes = createNenRoute({ nen })
  const route = withSecureAI(custom, { nen }) // the default onError: checked for what it prints
  backend = await startBackend((path) => (path.startsWith('/api/nen/') ? (req) => routes[req.method === 'GET' ? 'GET' : 'POST'](req) : path === '/api/ai/custom' ? route : null))
  tap = await startWiretap(backend.port)
  client = createSecureOpenAI({ baseUrl: tap.url, path: '/api/ai/custom' })
})
after(async () => {
  await tap.close()
  await backend.close()
})

test('a custom provider: its result comes back, prepared by its own allow-list', async () => {
  calls = []
  const out = await client.chat.completions.create({ model: 'ok', messages: [{ role: 'user', content: 'x' }], tools: [1] })
  assert.deepEqual(out, { echo: { model: 'ok', messages: [{ role: 'user', content: 'x' }] } })
  assert.equal(calls[0].signal instanceof AbortSignal, true)
  const items = []
  for await (const item of await client.chat.completions.create({ model: 'ok', messages: [], stream: true })) items.push(item)
  assert.deepEqual(items, [{ n: 1 }, { n: 2 }, { n: 3 }])
})

test('raw errors from a custom provider: classified by status, their text never forwarded or printed', async () => {
  calls = []
  const { lines } = await captureConsole(async () => {
    const e1 = await client.chat.completions.create({ model: 'fail', messages: [] }).catch((e) => e)
    assert.ok(e1 instanceof SecureAIError)
    assert.deepEqual([e1.code, e1.status, e1.upstreamStatus], ['ISO-9000', 503, 503])

    const e2 = await (async () => {
      for await (const _ of await client.chat.completions.create({ model: 'fail-first', messages: [], stream: true }));
    })().catch((e) => e)
    assert.deepEqual([e2.code, e2.status, e2.authenticated], ['ISO-7002', 502, true])

    const items = []
    const e3 = await (async () => {
      for await (const item of await client.chat.completions.create({ model: 'fail-mid', messages: [], stream: true })) items.push(item)
    })().catch((e) => e)
    assert.ok(e3 instanceof NenError)
    assert.equal(e3.code, 'ISO-7002')
    assert.deepEqual(items, [{ n: 1 }, { n: 2 }])
    for (const e of [e1, e2, e3]) assert.ok(!`${e.message} ${e.stack} ${JSON.stringify(e)}`.includes(SECRET))
  })
  assert.deepEqual(lines, [
    '[@withnen/ai] custom create failed: http (HTTP 503); answered ISO-9000',
    '[@withnen/ai] custom stream failed: http (HTTP 401); answered ISO-7002',
    '[@withnen/ai] custom stream failed: failed; answered ISO-7002',
  ])
  assert.ok(!tap.received().includes(SECRET))
})

test('frames that share a network read with the error end are still delivered', async () => {
  const items = []
  const err = await (async () => {
    for await (const item of await client.chat.completions.create({ model: 'fail-mid-now', messages: [], stream: true })) items.push(item)
  })().catch((e) => e)
  assert.equal(err?.code, 'ISO-7002')
  assert.deepEqual(items, [{ n: 1 }, { n: 2 }])
})

test('UpstreamError keeps the original out of its message and its JSON', () => {
  const original = new Error(`quote: ${SECRET}`)
  const e = new UpstreamError('p', 'http', 500, original)
  assert.equal(e.message, 'p request failed with HTTP 500')
  assert.equal(e.upstream, original)
  assert.ok(!JSON.stringify(e).includes(SECRET))
  assert.deepEqual(Object.keys(e).sort(), ['detail', 'kind', 'name', 'provider', 'upstreamStatus'])
  assert.equal(e.detail, undefined) // only configuration errors carry one
})

test('applyPolicy: allow-list, model choice, caps; never the browser’s stream flag', () => {
  const browser = JSON.parse('{"model":"big","messages":[],"max_tokens":9000,"stream":true,"__proto__":{"polluted":true},"tools":[]}')
  assert.deepEqual(applyPolicy(browser, OPENAI_ALLOWED_PARAMS, ['max_tokens'], {}), { model: 'big', messages: [], max_tokens: 9000 })
  assert.equal({}.polluted, undefined)
  assert.deepEqual(applyPolicy(browser, OPENAI_ALLOWED_PARAMS, ['max_tokens'], { maxTokens: 100, models: ['small', 'mid'] }), { model: 'small', messages: [], max_tokens: 100 })
  assert.deepEqual(applyPolicy({ model: 'mid' }, OPENAI_ALLOWED_PARAMS, [], { models: ['small', 'mid'] }), { model: 'mid' })
  assert.deepEqual(applyPolicy({ model: 'x' }, OPENAI_ALLOWED_PARAMS, [], { model: 'fixed' }), { model: 'fixed' })
  assert.deepEqual(applyPolicy({ model: 'x', stream: true }, OPENAI_ALLOWED_PARAMS, [], { allowParams: ['stream'] }), { model: 'x' })
  for (const junk of [null, 'text', 42, [1, 2], undefined]) assert.deepEqual(applyPolicy(junk, ANTHROPIC_ALLOWED_PARAMS, [], {}), {})
  assert.ok(Object.isFrozen(OPENAI_ALLOWED_PARAMS) && Object.isFrozen(ANTHROPIC_ALLOWED_PARAMS))
})
