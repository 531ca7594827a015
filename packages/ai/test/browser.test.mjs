// A real browser: headless Chromium (Debian's, driven by playwright-core) loads a page whose
// script is @withnen/ai bundled for the browser (esbuild), served by the test backend. The page
// talks to both providers through the secure routes, aborts a stream, and meets a provider
// failure; the test checks what the page reports and what Chromium saw on the network.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import { startWorld, within } from './support/harness.mjs'
import { REPLY, UPSTREAM_SECRET } from './support/upstream.mjs'

const CHROMIUM = process.env.NEN_CHROMIUM ?? '/usr/bin/chromium'
const PROMPT = 'PROMPT-PLATYPUS in the browser'

const script = `
import { createSecureOpenAI, createSecureAnthropic, NenError } from '@withnen/ai'
const out = {}
// Prompt and model names come in the URL fragment, which is never sent: the served script holds
// none of the strings the test looks for on the wire.
const { prompt, gpt, claude } = JSON.parse(decodeURIComponent(location.hash.slice(1)))
try {
  const openai = createSecureOpenAI() // the page's origin
  const anthropic = createSecureAnthropic({ client: openai.nen }) // one session for both
  const messages = [{ role: 'user', content: prompt }]
  out.create = (await openai.chat.completions.create({ model: gpt + '-test', messages })).choices[0].message.content
  let text = ''
  for await (const c of await openai.chat.completions.create({ model: gpt + '-test', messages, stream: true })) text += c.choices[0]?.delta?.content ?? ''
  out.stream = text
  out.anthropic = await anthropic.messages.stream({ model: claude + '-test', max_tokens: 20, messages }).finalText()
  const ac = new AbortController()
  let n = 0
  try {
    for await (const _ of openai.chat.completions.stream({ model: gpt + '-slow', messages }, { signal: ac.signal })) if (++n === 3) ac.abort()
  } catch (e) {
    out.abort = e.name
  }
  try {
    await openai.chat.completions.create({ model: gpt + '-fail-500', messages })
  } catch (e) {
    out.fail = { isNenError: e instanceof NenError, code: e.code, status: e.status, upstreamStatus: e.upstreamStatus, message: e.message }
  }
  out.sid = openai.nen.sessionId
} catch (e) {
  out.error = String((e && e.stack) || e)
}
window.__results = out
`

test('@withnen/ai in headless Chromium: both providers, abort, coded failure, nothing in clear', { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}` }, async () => {
  const bundle = await build({
    stdin: { contents: script, resolveDir: new URL('..', import.meta.url).pathname, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  const js = bundle.outputFiles[0].text
  assert.doesNotMatch(js, /OpenAIError|AnthropicError/, 'no SDK code in the browser bundle')
  const page = '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>ai</title></head><body><script type="module" src="/app.js"></script></body></html>'
  const world = await startWorld({
    files: {
      '/': { type: 'text/html; charset=utf-8', body: page },
      '/app.js': { type: 'text/javascript', body: js },
      // Served beside the bundle, as without a bundler's asset handling: the client fetches ./nen.wasm on first use.
      '/nen.wasm': { type: 'application/wasm', body: readFileSync(new URL('../../client/dist/nen.wasm', import.meta.url)) },
    },
  })
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  try {
    const tab = await browser.newPage()
    const captured = []
    tab.on('request', (r) => captured.push(r.postData() ?? ''))
    tab.on('response', async (r) => {
      if (r.url().includes('/api/')) captured.push(await r.text().catch(() => ''))
    })
    const pageErrors = []
    tab.on('pageerror', (e) => pageErrors.push(String(e)))
    await tab.goto(`${world.tap.url}/#${encodeURIComponent(JSON.stringify({ prompt: PROMPT, gpt: 'gpt', claude: 'claude' }))}`)
    await tab.waitForFunction(() => window.__results !== undefined, null, { timeout: 60_000 })
    const r = await tab.evaluate(() => window.__results)
    assert.equal(r.error, undefined, r.error)
    assert.deepEqual(pageErrors, [])
    assert.equal(r.create, REPLY)
    assert.equal(r.stream, REPLY)
    assert.equal(r.anthropic, REPLY)
    assert.equal(r.abort, 'AbortError')
    assert.deepEqual(r.fail, { isNenError: true, code: 'ISO-9000', status: 502, upstreamStatus: 500, message: 'Internal error' })
    assert.match(r.sid, /^[0-9a-f]{32}$/)

    // The aborted stream's provider request was cancelled.
    const slow = world.upstream.requests.find((x) => x.body.model === 'gpt-slow')
    await within(3000, slow.closed, 'upstream close')
    assert.equal(slow.closedEarly, true)
    assert.ok(slow.sent < 400)

    const bodies = captured.filter((b) => b.length > 0)
    assert.ok(bodies.length >= 8, `captured ${bodies.length} bodies`)
    for (const b of [...bodies, world.tap.sent(), world.tap.received()]) {
      for (const p of ['PLATYPUS', 'ZEBRA', 'QUARTZ', 'gpt-test', 'claude-test', UPSTREAM_SECRET, 'sk-test']) assert.ok(!b.includes(p), `${p} in a captured body`)
    }
  } finally {
    await browser.close()
    await world.close()
  }
})
