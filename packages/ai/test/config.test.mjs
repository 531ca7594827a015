// The server side's configuration, as a user meets it: the model set by the route (and what
// happens when nothing sets one), and a route without a provider key, whose SDK error is logged
// in one line while the browser gets a code only.

import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { NenError, SecureAIError } from '@withnen/ai'
import { startWorld, captureConsole } from './support/harness.mjs'
import { REPLY } from './support/upstream.mjs'

const PROMPT = 'PROMPT-CONFIG-WOMBAT'
const messages = [{ role: 'user', content: PROMPT }]

const NO_MODEL_OPENAI = 'no model to send: set `model` or `models` in openAIProvider(), set one in `transform`, or send `model` from the client'
const NO_MODEL_ANTHROPIC = 'no model to send: set `model` or `models` in anthropicProvider(), set one in `transform`, or send `model` from the client'
// The SDKs' own messages (openai 6.49, @anthropic-ai/sdk 1.14): fixed texts naming options and
// environment variables, nothing interpolated from a key or a request.
const OPENAI_NO_KEY = 'Missing credentials. Please pass an `apiKey`, `workloadIdentity`, `adminAPIKey`, or set the `OPENAI_API_KEY` or `OPENAI_ADMIN_KEY` environment variable.'
const ANTHROPIC_NO_KEY =
  'Could not resolve authentication method. Expected one of apiKey, authToken, credentials, config, or profile to be set. Or for the "Authorization" header to be explicitly omitted'

/** Runs `f` and returns its error (or fails if it resolves). */
async function failure(f) {
  try {
    await f()
  } catch (e) {
    return e
  }
  assert.fail('expected a failure')
}

const drain = async (iterable) => {
  for await (const _ of iterable);
}

const worlds = []
after(async () => {
  for (const w of worlds) await w.close()
})
async function world(o) {
  const w = await startWorld(o)
  worlds.push(w)
  return w
}

test('model set by the route: the client sends none (stream({ messages }) yields the deltas)', async () => {
  const w = await world({ openai: { model: 'gpt-test' }, anthropic: { models: ['claude-test'] } })
  const deltas = []
  for await (const delta of w.openai.chat.completions.stream({ messages })) deltas.push(delta)
  assert.equal(deltas.join(''), REPLY)
  assert.equal(w.lastUpstream().body.model, 'gpt-test')
  assert.equal((await w.openai.chat.completions.create({ messages })).choices[0].message.content, REPLY)
  assert.equal(w.lastUpstream().body.model, 'gpt-test')
  let text = ''
  for await (const delta of w.anthropic.messages.stream({ messages })) text += delta
  assert.equal(text, REPLY)
  assert.deepEqual(w.lastUpstream().body, { model: 'claude-test', messages, max_tokens: 1024, stream: true })
})

test('model set by transform: checked after it', async () => {
  const w = await world({ route: { transform: (p) => ({ ...p, model: p.messages ? 'gpt-test' : undefined }) } })
  assert.equal((await w.openai.chat.completions.create({ messages })).choices[0].message.content, REPLY)
  assert.equal(w.lastUpstream().body.model, 'gpt-test')
})

test('no model from the client, the policy or transform: ISO-9001 (500), no provider call, one log line', async () => {
  const w = await world({ route: { onError: undefined } })
  const { lines } = await captureConsole(async () => {
    const e1 = await failure(() => w.openai.chat.completions.create({ messages }))
    assert.ok(e1 instanceof NenError) // the route refused before any provider call: a Nen refusal, as from transform
    assert.deepEqual([e1.code, e1.status, e1.authenticated, e1.message], ['ISO-9001', 500, true, 'Invalid Nen configuration'])
    const e2 = await failure(() => drain(w.openai.chat.completions.stream({ messages })))
    assert.deepEqual([e2.code, e2.status, e2.authenticated, e2.message], ['ISO-9001', 500, true, 'Invalid Nen configuration'])
    const e3 = await failure(() => w.anthropic.messages.create({ messages, model: '' }))
    assert.deepEqual([e3.code, e3.status], ['ISO-9001', 500])
    const e4 = await failure(async () => drain(await w.anthropic.messages.create({ messages, stream: true })))
    assert.deepEqual([e4.code, e4.status], ['ISO-9001', 500])
  })
  assert.equal(w.upstream.requests.length, 0)
  assert.deepEqual(lines, [
    `[@withnen/ai] openai create failed: config; answered ISO-9001: ${NO_MODEL_OPENAI}`,
    `[@withnen/ai] openai stream failed: config; answered ISO-9001: ${NO_MODEL_OPENAI}`,
    `[@withnen/ai] anthropic create failed: config; answered ISO-9001: ${NO_MODEL_ANTHROPIC}`,
    `[@withnen/ai] anthropic stream failed: config; answered ISO-9001: ${NO_MODEL_ANTHROPIC}`,
  ])
})

/** Runs `f` with no provider credential in the environment (and no Anthropic config files). */
async function withoutKeys(f) {
  const names = [
    'OPENAI_API_KEY',
    'OPENAI_ADMIN_KEY',
    'ANTHROPIC_API_KEY',
    'ANTHROPIC_AUTH_TOKEN',
    'ANTHROPIC_PROFILE',
    'ANTHROPIC_CONFIG_DIR',
    'ANTHROPIC_IDENTITY_TOKEN',
    'ANTHROPIC_IDENTITY_TOKEN_FILE',
  ]
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]))
  const dir = mkdtempSync(path.join(tmpdir(), 'nen-ai-noconfig-'))
  for (const n of names) delete process.env[n]
  process.env.ANTHROPIC_CONFIG_DIR = dir
  try {
    return await f()
  } finally {
    for (const [n, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[n]
      else process.env[n] = v
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

test('no provider key: the SDK’s configuration message in one log line; the browser gets the code only', async () => {
  await withoutKeys(async () => {
    const infos = []
    const logged = await world({ openai: { apiKey: undefined }, anthropic: { apiKey: undefined }, route: { onError: undefined } })
    const told = await world({ openai: { apiKey: undefined }, route: { onError: (info) => infos.push(info) } })
    const { lines } = await captureConsole(async () => {
      const e1 = await failure(() => logged.openai.chat.completions.create({ model: 'gpt-test', messages }))
      assert.ok(e1 instanceof SecureAIError)
      assert.deepEqual([e1.code, e1.status, e1.upstreamStatus, e1.authenticated, e1.message], ['ISO-9000', 502, undefined, true, 'Internal error'])
      const e2 = await failure(() => drain(logged.openai.chat.completions.stream({ model: 'gpt-test', messages })))
      assert.deepEqual([e2.code, e2.status, e2.authenticated], ['ISO-7002', 502, true])
      const e3 = await failure(() => logged.anthropic.messages.create({ model: 'claude-test', messages }))
      assert.deepEqual([e3.code, e3.status, e3.upstreamStatus, e3.message], ['ISO-9000', 502, undefined, 'Internal error'])
      const e4 = await failure(() => drain(logged.anthropic.messages.stream({ model: 'claude-test', messages })))
      assert.deepEqual([e4.code, e4.status], ['ISO-7002', 502])
      for (const e of [e1, e2, e3, e4]) assert.ok(!`${e.message} ${e.stack} ${JSON.stringify(e)}`.includes('credentials'))
    })
    assert.deepEqual(lines, [
      `[@withnen/ai] openai create failed: config; answered ISO-9000: ${OPENAI_NO_KEY}`,
      `[@withnen/ai] openai stream failed: config; answered ISO-7002: ${OPENAI_NO_KEY}`,
      `[@withnen/ai] anthropic create failed: config; answered ISO-9000: ${ANTHROPIC_NO_KEY}`,
      `[@withnen/ai] anthropic stream failed: config; answered ISO-7002: ${ANTHROPIC_NO_KEY}`,
    ])
    // Nothing of the request in the log; no provider was called.
    for (const line of lines) assert.ok(!line.includes('WOMBAT') && !line.includes('gpt-test') && !line.includes('claude-test'), line)
    assert.equal(logged.upstream.requests.length, 0)
    assert.ok(!logged.tap.received().includes('credentials'))

    // onError is told the same, with the SDK's error as the original.
    await failure(() => told.openai.chat.completions.create({ model: 'gpt-test', messages }))
    assert.deepEqual(
      infos.map(({ provider, phase, code, status, upstreamStatus, kind, error }) => ({
        provider,
        phase,
        code,
        status,
        upstreamStatus,
        kind,
        detail: error.detail,
        sdk: error.upstream?.constructor?.name,
      })),
      [{ provider: 'openai', phase: 'create', code: 'ISO-9000', status: 502, upstreamStatus: undefined, kind: 'config', detail: OPENAI_NO_KEY, sdk: 'OpenAIError' }],
    )
    // The failed construction is not cached: once the key is there, the same route works.
    process.env.OPENAI_API_KEY = 'sk-test-openai'
    assert.equal((await told.openai.chat.completions.create({ model: 'gpt-test', messages })).choices[0].message.content, REPLY)
  })
})
