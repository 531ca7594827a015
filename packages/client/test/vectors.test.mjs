// Reproducibility: with the RNG fixed on both sides (the WASM client core and the native server,
// through its test hooks) and the clock fixed, a real end-to-end run over HTTP reproduces
// docs/vectors byte for byte.

import test from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
// The test build of the core (`test-hooks`): the published one has no __setTestSeed.
import init, * as core from '../wasm-test/nen_wasm.js'
import { wasmBase64 } from '../wasm-test/nen_wasm_bytes.js'
import { startServer } from './support/server.mjs'

await init({ module_or_path: Buffer.from(wasmBase64, 'base64') })

const vector = (name) => JSON.parse(readFileSync(new URL(`../../../docs/vectors/${name}.json`, import.meta.url), 'utf8'))
const hex = (h) => Buffer.from(h, 'hex')

/** Starts a seeded server and a seeded client, and runs the vector's handshake through HTTP. */
async function seededRun(v) {
  const srv = await startServer({ testRngSeed: hex(v.server_rng_seed).toString('base64'), testNowMs: v.handshake.now_ms, sessionTtlMs: v.handshake.ttl_ms })
  core.__setTestSeed(hex(v.client_rng_seed))
  const hs = core.ClientHandshake.start(v.handshake.mode)
  assert.equal(hs.body, v.handshake.request_body, 'handshake request')
  const res = await fetch(`${srv.url}/api/nen/handshake`, { method: 'POST', body: hs.body })
  const text = await res.text()
  assert.equal(text, v.handshake.response_body, 'handshake response')
  const session = hs.finish(text)
  assert.equal(session.sid, v.handshake.sid)
  return { srv, session }
}

async function send(srv, signed, method, target, extra = {}) {
  return fetch(srv.url + target, { method, headers: { ...signed.headers, ...extra }, body: signed.body })
}

test('handshakes in both modes reproduce their vectors', async () => {
  for (const name of ['handshake-hybrid', 'handshake-mlkem768']) {
    const { srv } = await seededRun(vector(name))
    await srv.close()
  }
})

test('a request and response for every method reproduce requests.json', async () => {
  const v = vector('requests')
  const { srv, session } = await seededRun(v)
  try {
    for (const e of v.exchanges) {
      srv.server.setTestNow(e.now_ms)
      const signed = session.sign(e.method, e.target, e.plaintext_body ?? undefined, e.now_ms, e.idempotency_key ?? undefined)
      assert.deepEqual(signed.headers, e.headers, `${e.method} headers`)
      assert.equal(signed.body, e.body ?? undefined, `${e.method} body`)
      const fixed = e.answer === 'error' ? { 'x-test-error': e.error_code } : { 'x-test-reply': e.plaintext_response ?? 'null', 'x-test-status': String(e.status) }
      const res = await send(srv, signed, e.method, e.target, fixed)
      assert.equal(res.status, e.status)
      if (e.answer === 'error') {
        // A failure after authentication, sealed: the client raises it as authenticated.
        const sealed = e.method === 'HEAD' ? res.headers.get('x-nen-response') : await res.text()
        assert.equal(sealed, e.method === 'HEAD' ? e.response_headers['x-nen-response'] : e.response_body)
        const open = () => (e.method === 'HEAD' ? session.openHead(signed, e.status, sealed) : session.open(signed, e.status, sealed))
        assert.throws(open, (err) => err.code === e.error_code && err.authenticated === true)
      } else if (e.method === 'HEAD') {
        // The test server's HEAD answer comes from its own handler; the seal is what must match.
        assert.equal(res.headers.get('x-nen-response'), e.response_headers['x-nen-response'])
        session.openHead(signed, e.status, res.headers.get('x-nen-response'))
      } else {
        const text = await res.text()
        assert.equal(text, e.response_body, `${e.method} response`)
        assert.equal(session.open(signed, e.status, text), e.plaintext_response)
      }
    }
  } finally {
    await srv.close()
  }
})

test('a 3-chunk stream reproduces stream.json', async () => {
  const v = vector('stream')
  const { srv, session } = await seededRun(v)
  try {
    srv.server.setTestNow(v.now_ms)
    const signed = session.sign('POST', v.request.target, v.request.plaintext_body, v.now_ms)
    assert.deepEqual(signed.headers, v.request.headers)
    assert.equal(signed.body, v.request.body)
    const res = await send(srv, signed, 'POST', v.request.target, { 'x-test-tokens': JSON.stringify(v.chunks) })
    assert.equal(res.headers.get('x-nen-stream-nonce'), v.response_headers['x-nen-stream-nonce'])
    const sse = await res.text()
    assert.equal(sse, v.sse_body)
    const reader = session.openStream(signed, res.headers.get('x-nen-stream-nonce'))
    assert.deepEqual(reader.push(Buffer.from(sse)), v.chunks)
    reader.finish()
  } finally {
    await srv.close()
  }
})

test('a rotation reproduces rotation.json', async () => {
  const v = vector('rotation')
  const { srv, session } = await seededRun(v)
  try {
    srv.server.setTestNow(v.now_ms)
    const rot = session.beginRotation('hybrid')
    assert.equal(rot.body, v.inner_request_body)
    const signed = session.sign('POST', '/api/nen/rotate', rot.body, v.now_ms)
    assert.deepEqual(signed.headers, v.headers)
    assert.equal(signed.body, v.body)
    const res = await send(srv, signed, 'POST', '/api/nen/rotate')
    const text = await res.text()
    assert.equal(text, v.response_body)
    const inner = session.open(signed, 200, text)
    assert.equal(inner, v.inner_response_body)
    assert.equal(rot.finish(inner).sid, v.new_sid)
  } finally {
    await srv.close()
  }
})
