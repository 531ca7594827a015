// A real browser: headless Chromium (Debian's, driven by playwright-core) loads a page served by
// a Node server that uses the native Nen server. The page runs the whole client API; the test
// asserts what the page reports and that no body captured on the network carries plaintext.

import test from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { chromium } from 'playwright-core'
import { startServer } from './support/server.mjs'

const CHROMIUM = process.env.NEN_CHROMIUM ?? '/usr/bin/chromium'
const SECRET = 'browser-secret-4242'

const page = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>nen</title></head>
<body><pre id="out">running</pre>
<script type="module">
import { NenClient, NenError } from '/client.mjs'
const out = {}
try {
  const client = new NenClient(location.origin)
  await client.handshake()
  out.sid = client.sessionId
  const created = await client.nenFetch('/api/items', { method: 'POST', body: { name: '${SECRET}' } })
  out.post = { status: created.status, body: await created.json() }
  const got = await client.nenFetch('/api/items/' + out.post.body.id)
  out.get = { status: got.status, body: await got.json() }
  const head = await client.nenFetch('/api/items/' + out.post.body.id, { method: 'HEAD' })
  out.head = { status: head.status }
  const del = await client.nenFetch('/api/items/' + out.post.body.id, { method: 'DELETE' })
  out.del = { status: del.status, body: await del.json() }
  out.stream = []
  for await (const chunk of client.nenStream('/api/stream', { body: { prompt: '${SECRET}' } })) out.stream.push(chunk)
  try {
    for await (const _ of client.nenStream('/api/stream/truncated', { body: {} })) {}
  } catch (e) { out.truncated = e instanceof NenError ? e.code : String(e) }
  const before = client.sessionId
  await client.rotate()
  out.rotated = client.sessionId !== before && (await client.status()).sid === client.sessionId
  await client.terminate()
  out.terminated = client.sessionId === null
} catch (e) {
  out.error = String(e && e.stack || e)
}
window.__results = out
document.getElementById('out').textContent = JSON.stringify(out, null, 2)
</script></body></html>`

test('the client in headless Chromium: every operation, no plaintext on the wire', { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}` }, async () => {
  const clientJs = readFileSync(new URL('../dist/index.mjs', import.meta.url))
  const srv = await startServer({}, {
    '/': { type: 'text/html; charset=utf-8', body: page },
    '/client.mjs': { type: 'text/javascript', body: clientJs },
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
    const consoleErrors = []
    tab.on('pageerror', (e) => consoleErrors.push(String(e)))
    await tab.goto(srv.url + '/')
    await tab.waitForFunction(() => window.__results !== undefined, null, { timeout: 30_000 })
    const r = await tab.evaluate(() => window.__results)
    assert.equal(r.error, undefined, r.error)
    assert.deepEqual(consoleErrors, [])
    assert.match(r.sid, /^[0-9a-f]{32}$/)
    assert.equal(r.post.status, 201)
    assert.equal(r.post.body.name, SECRET)
    assert.deepEqual(r.get, { status: 200, body: r.post.body })
    assert.deepEqual(r.head, { status: 200 })
    assert.deepEqual(r.del, { status: 200, body: { deleted: true, reason: null } })
    assert.deepEqual(r.stream, ['The ', 'quick ', 'brown ', 'fox'])
    assert.equal(r.truncated, 'ISO-7003')
    assert.equal(r.rotated, true)
    assert.equal(r.terminated, true)

    const apiBodies = captured.filter((b) => b.length > 0)
    assert.ok(apiBodies.length >= 10, `captured ${apiBodies.length} bodies`)
    for (const b of [...apiBodies, ...srv.wire]) {
      assert.ok(!b.includes(SECRET), 'plaintext in a captured body')
      assert.ok(!b.includes('quick'), 'stream plaintext in a captured body')
    }
  } finally {
    await browser.close()
    await srv.close()
  }
})
