// The example app for real: installs the repository's packages as packed tarballs
// (scripts/install-local.sh), runs `next build`, then serves it twice, with `next start` and with
// the standalone server copied out of the project (so it can only use what the build traced,
// .node included). Headless Chromium drives the page: encrypted CRUD, a stream, a key rotation.
// Every request and response body seen on the network is captured: none may carry the
// plaintext that the page shows.

import test, { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { CHROMIUM, CHROMIUM_ARGS, freePort, run, startServer } from './support/harness.mjs'
import { checkEdgeRoute, checkPagesRoutes, edgeStore } from './support/routes.mjs'

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const skip = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : process.platform !== 'linux' || process.arch !== 'x64' ? 'the local addon build is linux-x64 only' : false

let browser
const cleanups = []

before(async () => {
  if (skip) return
  await run('bash', ['scripts/install-local.sh'], { cwd: app, timeoutMs: 120_000 })
  await run('npm', ['run', 'build'], { cwd: app, timeoutMs: 240_000 })
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
})

after(async () => {
  await browser?.close()
  for (const c of cleanups.reverse()) await c()
})

test('next start: encrypted CRUD, stream and rotation from the page; no plaintext on the wire', { skip, timeout: 120_000 }, async () => {
  const port = await freePort()
  const server = await startServer([path.join(app, 'node_modules/next/dist/bin/next'), 'start', '-H', '127.0.0.1', '-p', String(port)], { cwd: app, port })
  cleanups.push(server.stop)
  try {
    await drive(server)
    assert.ok(server.loaded('nen-server-native.linux-x64-gnu.node'), 'the routes ran on the native addon, not the WASM fallback')
  } finally {
    await server.stop()
  }
})

test("next start: a `runtime = 'edge'` route on the edge-light build, and Pages Router API routes", { skip, timeout: 120_000 }, async () => {
  const store = await edgeStore()
  cleanups.push(store.stop)
  const port = await freePort()
  const server = await startServer([path.join(app, 'node_modules/next/dist/bin/next'), 'start', '-H', '127.0.0.1', '-p', String(port)], { cwd: app, port, extraEnv: store.env })
  cleanups.push(server.stop)
  try {
    await checkEdgeRoute(server.url, store)
    await checkPagesRoutes(server.url)
  } finally {
    await server.stop()
  }
})

test('standalone server, copied out of the project: the same', { skip, timeout: 120_000 }, async () => {
  // Copied away from the project: it must not find anything in the project's node_modules.
  const dir = mkdtempSync(path.join(tmpdir(), 'nen-standalone-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  // verbatimSymlinks: Turbopack links .next/node_modules/@withnen/server-native-<hash> to the
  // package with a relative symlink, which must stay relative to point inside the copy.
  cpSync(path.join(app, '.next/standalone'), dir, { recursive: true, verbatimSymlinks: true })
  assert.ok(existsSync(path.join(dir, '.next/static')), 'postbuild copies .next/static into the standalone output')
  assert.ok(existsSync(path.join(dir, 'node_modules/@withnen/server-native-linux-x64-gnu/nen-server-native.linux-x64-gnu.node')), 'the addon is traced into the standalone output')
  const server = await startServer(['server.js'], { cwd: dir, port: await freePort() })
  cleanups.push(server.stop)
  try {
    await drive(server)
    assert.ok(
      server.loaded(path.join(dir, 'node_modules/@withnen/server-native-linux-x64-gnu/nen-server-native.linux-x64-gnu.node')),
      'the standalone server runs the addon traced into its own node_modules',
    )
  } finally {
    await server.stop()
  }
})

/** Runs the whole scenario on the page served at `server.url`, and checks the wire. */
async function drive(server) {
  const tag = randomBytes(4).toString('hex')
  const plain = {
    first: `alpha-${tag}-Wombat`,
    second: `bravo-${tag}-Quokka`,
    renamed: `charlie-${tag}-Numbat`,
    prompt: `delta-${tag}-Echidna tells a secret`,
  }
  const context = await browser.newContext()
  const page = await context.newPage()
  const bodies = [] // {kind, url, body}
  const pending = []
  page.on('request', (r) => {
    const body = r.postData()
    if (body) bodies.push({ kind: 'request', url: r.url(), body })
  })
  page.on('response', (r) => {
    pending.push(
      r.text().then(
        (body) => bodies.push({ kind: 'response', url: r.url(), body, type: r.headers()['content-type'] ?? '' }),
        () => {},
      ),
    )
  })
  const pageErrors = []
  page.on('pageerror', (e) => pageErrors.push(String(e)))
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()))

  const $ = (id) => page.getByTestId(id)
  const last = () => $('last-result').textContent()
  // Clicks a button and waits until the page has finished the action it started.
  const completed = () => page.getByTestId('app').getAttribute('data-completed').then(Number)
  const click = async (id) => {
    const before = await completed()
    await $(id).click()
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=app]').dataset.completed) > n, before, { timeout: 15_000 })
    assert.equal(await $('error').textContent(), '', 'the page reports no error')
  }
  const expectLast = async (prefix) => {
    const text = await last()
    assert.ok(text.startsWith(prefix), `${JSON.stringify(text)} starts with ${JSON.stringify(prefix)}`)
    return text
  }
  const idOf = async (name) => {
    const names = await page.locator('[data-testid^="item-name-"]').evaluateAll((els) => els.map((e) => [e.dataset.testid.slice('item-name-'.length), e.textContent]))
    const hit = names.find(([, n]) => n === name)
    assert.ok(hit, `${name} is listed: ${JSON.stringify(names)}`)
    return hit[0]
  }

  try {
    await page.goto(server.url + '/')
    await page.waitForSelector('[data-testid=app][data-hydrated=yes]', { timeout: 20_000 })
    assert.equal(await $('session-id').textContent(), 'none')

    // Create (the first call runs the handshake).
    await $('name-input').fill(plain.first)
    await click('create-button')
    assert.match(await expectLast('create: 201 '), new RegExp(`"name":"${plain.first}"`))
    const sid = await $('session-id').textContent()
    assert.match(sid, /^[0-9a-f]{32}$/, 'a session after the first request')
    const first = await idOf(plain.first)
    await $('name-input').fill(plain.second)
    await click('create-button')
    await expectLast('create: 201 ')
    const second = await idOf(plain.second)

    // List.
    await click('list-button')
    assert.match(await expectLast('list: 200 '), /\(2 items\)/)
    assert.deepEqual(await page.locator('[data-testid^="item-name-"]').allTextContents(), [plain.first, plain.second])

    // Update: PUT (replace the name), PATCH (mark done), then GET and HEAD.
    await $('name-input').fill(plain.renamed)
    await click(`rename-${first}`)
    assert.match(await expectLast('update: 200 '), new RegExp(`"name":"${plain.renamed}"`))
    assert.equal(await $(`item-name-${first}`).textContent(), plain.renamed)
    await click(`toggle-${first}`)
    assert.match(await expectLast('toggle: 200 '), /"done":true/)
    assert.equal(await $(`item-name-${first}`).getAttribute('class'), 'done')
    await click(`get-${first}`)
    const got = await expectLast('get: 200 ')
    assert.match(got, new RegExp(`"name":"${plain.renamed}","done":true`))
    await click(`head-${first}`)
    assert.equal(await expectLast('head: '), 'head: 200')

    // Delete, and the list agrees.
    await click(`delete-${second}`)
    assert.equal(await expectLast('delete: 200 '), `delete: 200 {"deleted":"${second}"}`)
    await expectGone(page, second)
    await click('list-button')
    assert.match(await expectLast('list: 200 '), /\(1 items\)/)
    assert.deepEqual(await page.locator('[data-testid^="item-name-"]').allTextContents(), [plain.renamed])

    // Stream.
    await $('prompt-input').fill(plain.prompt)
    await click('stream-button')
    await page.waitForSelector('[data-testid=stream-state]:text-is("done")', { timeout: 15_000 })
    assert.equal(await $('stream-output').textContent(), `You said: ${plain.prompt}`)

    // Rotate: a new session id, and the status route agrees; requests go on working.
    await click('rotate-button')
    const rotated = await expectLast('rotate: ')
    const newSid = await $('session-id').textContent()
    assert.match(newSid, /^[0-9a-f]{32}$/)
    assert.notEqual(newSid, sid)
    assert.equal(rotated, `rotate: ${sid} → ${newSid}`)
    assert.equal(await $('rotations').textContent(), '1')
    await click('status-button')
    await page.waitForFunction(() => document.querySelector('[data-testid=session-status]')?.textContent, null, { timeout: 15_000 })
    assert.equal(JSON.parse(await $('session-status').textContent()).sid, newSid)
    await click('list-button')
    assert.match(await expectLast('list: 200 '), /\(1 items\)/)

    // Terminate: keys gone on both sides; the next request runs a fresh handshake.
    await click('terminate-button')
    assert.equal(await expectLast('terminate: '), 'terminate: session ended, keys wiped')
    assert.equal(await $('session-id').textContent(), 'none')
    await click('list-button')
    assert.match(await expectLast('list: 200 '), /\(1 items\)/)
    assert.ok(![sid, newSid, 'none'].includes(await $('session-id').textContent()), 'a new session')
    assert.deepEqual(pageErrors, [])
  } finally {
    await Promise.allSettled(pending)
    await context.close()
  }

  // The wire: API bodies are envelopes; nothing anywhere carries the plaintext.
  const api = bodies.filter((b) => new URL(b.url).pathname.startsWith('/api/'))
  const requests = api.filter((b) => b.kind === 'request')
  const responses = api.filter((b) => b.kind === 'response')
  assert.ok(requests.length >= 7, `captured ${requests.length} API request bodies`)
  assert.ok(responses.length >= 14, `captured ${responses.length} API response bodies`)
  for (const b of requests.filter((b) => !b.url.endsWith('/api/nen/handshake'))) assert.match(b.body, /^\{"ct":"/, `request body to ${b.url} is an envelope`)
  const streamed = responses.find((b) => b.url.endsWith('/api/stream'))
  assert.ok(streamed, 'the stream response body was captured')
  assert.match(streamed.type, /^text\/event-stream/)
  assert.ok((streamed.body.match(/^data: /gm) ?? []).length >= 6, 'one event per token, and an end')
  const secrets = [...Object.values(plain), `${tag}-Echidna`]
  assert.ok(bodies.length > api.length, 'the page and its scripts were captured too')
  for (const b of bodies) {
    for (const s of secrets) assert.ok(!b.body.includes(s), `plaintext ${JSON.stringify(s)} in the ${b.kind} body of ${b.url}`)
  }
  for (const b of api) assert.ok(!b.body.includes('You said'), `generated plaintext in the ${b.kind} body of ${b.url}`)
}

async function expectGone(page, id) {
  await page.waitForFunction((id) => !document.querySelector(`[data-testid="item-${id}"]`), id, { timeout: 15_000 })
}

test('the chat page: a prompt to each provider, the answer streamed back encrypted', { skip, timeout: 120_000 }, async () => {
  // The providers are local OpenAI- and Anthropic-compatible servers (the same stand-ins as
  // @withnen/ai's own tests); the SDKs in the routes reach them through their *_BASE_URL.
  const { startUpstream, REPLY } = await import('../../../packages/ai/test/support/upstream.mjs')
  const upstream = await startUpstream()
  cleanups.push(upstream.close)
  const port = await freePort()
  const server = await startServer([path.join(app, 'node_modules/next/dist/bin/next'), 'start', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: app,
    port,
    extraEnv: {
      OPENAI_API_KEY: 'sk-test-openai',
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      ANTHROPIC_API_KEY: 'sk-test-anthropic',
      ANTHROPIC_BASE_URL: upstream.url,
    },
  })
  cleanups.push(server.stop)
  const page = await browser.newPage()
  const bodies = []
  page.on('request', (r) => bodies.push(r.postData() ?? ''))
  page.on('response', async (r) => {
    if (r.url().includes('/api/')) bodies.push(await r.text().catch(() => ''))
  })
  try {
    await page.goto(`${server.url}/chat`)
    const prompt = `secret-prompt-${Math.random().toString(36).slice(2)}`
    for (const provider of ['openai', 'anthropic']) {
      await page.selectOption('[data-testid=provider]', provider)
      await page.fill('[data-testid=prompt]', prompt)
      await page.click('[data-testid=send]')
      await page.waitForFunction(
        (n) => document.querySelectorAll('[data-testid=turns] li[data-role=assistant]').length === n && !document.querySelector('[data-testid=stop]'),
        provider === 'openai' ? 1 : 2,
        { timeout: 30_000 },
      )
    }
    const answers = await page.$$eval('[data-testid=turns] li[data-role=assistant]', (els) => els.map((e) => e.textContent))
    assert.deepEqual(answers, [`Assistant: ${REPLY}`, `Assistant: ${REPLY}`])
    assert.equal(await page.$('[data-testid=error]'), null)
    assert.ok(
      upstream.requests.some((r) => JSON.stringify(r.body).includes(prompt)),
      'the provider received the prompt (plain TLS leg)',
    )
    for (const b of bodies) {
      assert.ok(!b.includes(prompt), 'prompt in clear between browser and backend')
      assert.ok(!b.includes('ZEBRA'), 'answer token in clear between browser and backend')
    }
  } finally {
    await page.close()
    await server.stop()
  }
})
