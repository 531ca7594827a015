// The README's examples, run as they are written: the two backend route files (the blocks after
// `<!-- example: openai-route -->` and `anthropic-route`) served over loopback with the Nen
// routes, in front of the local OpenAI- and Anthropic-compatible upstream, their keys and base
// URLs from the SDKs' environment variables; then the browser-client block, unchanged but for
// the names it expects the page to have (`model`, `messages`, `signal`, `render`), against them.
// A README edit that breaks an example fails here.

import test, { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { readmeExample, writeModule } from '../../../__test__/support/readme.mjs'
import { startBackend } from './support/backend.mjs'
import { REPLY, startUpstream } from './support/upstream.mjs'

const README = new URL('../README.md', import.meta.url)
// Inside the package, so `@withnen/ai/server` resolves to this package by self-reference.
const DIR = new URL('../.nen-test/readme/', import.meta.url)

const example = (name) => readmeExample(README, name)
const write = (name, code) => writeModule(DIR, name, code)

let upstream
let backend
before(async () => {
  upstream = await startUpstream()
  Object.assign(process.env, {
    OPENAI_API_KEY: 'sk-test-openai',
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    ANTHROPIC_API_KEY: 'sk-test-anthropic',
    ANTHROPIC_BASE_URL: upstream.url,
  })
  const openai = await import(write('openai-route', example('openai-route')))
  const anthropic = await import(write('anthropic-route', example('anthropic-route')))
  const { nenRoute } = await import('@withnen/server')
  backend = await startBackend((path) => {
    if (path.startsWith('/api/nen/')) return (req) => (req.method === 'GET' ? nenRoute.GET(req) : nenRoute.POST(req))
    if (path === '/api/ai/openai') return openai.POST
    if (path === '/api/ai/anthropic') return anthropic.POST
    return null
  })
})
after(async () => {
  await backend?.close()
  await upstream?.close()
})

test('the route examples export what Next.js expects', async () => {
  for (const name of ['openai-route', 'anthropic-route']) {
    const m = await import(new URL(`${name}.mjs`, DIR).href)
    assert.equal(m.runtime, 'nodejs')
    assert.equal(typeof m.POST, 'function')
  }
})

test('the browser-client example, as written, against the route examples', { timeout: 30_000 }, async () => {
  const code = example('browser-client')
  const lines = code.split('\n')
  const imports = lines.filter((l) => l.startsWith('import '))
  const body = lines.filter((l) => !l.startsWith('import ')).join('\n')
  const file = write('browser-client', `${imports.join('\n')}\nexport async function run({ model, messages, signal, render }) {\n${body}\nreturn { completion, final, message, text }\n}\n`)
  // The page's origin: `createSecureOpenAI()` defaults its base URL to location.origin.
  globalThis.location = new URL(`http://127.0.0.1:${backend.port}/`)
  try {
    const rendered = []
    const { run } = await import(file)
    const out = await run({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is the answer?' }], signal: new AbortController().signal, render: (s) => rendered.push(s) })
    assert.equal(out.completion.choices[0].message.content, REPLY)
    assert.equal(out.final.choices[0].message.content, REPLY)
    assert.equal(out.message.content.map((b) => b.text).join(''), REPLY)
    assert.equal(out.text, REPLY)
    // Each stream rendered the whole reply: the chunk loop, the two delta loops, the snapshots
    // (the last one is the reply) and the Anthropic text events.
    assert.ok(rendered.length > (4 * REPLY.length) / 10, `rendered ${rendered.length} pieces`)
    assert.ok(rendered.includes(REPLY), 'a snapshot of the whole reply was rendered')
    // The route picked the model for the stream without one: the first of `models`.
    assert.ok(upstream.requests.some((r) => r.path === '/v1/chat/completions' && r.body.model === 'gpt-4o-mini' && r.body.stream === true))
  } finally {
    delete globalThis.location
  }
})
