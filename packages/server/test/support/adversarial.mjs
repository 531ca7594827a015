// Shared by the adversarial suites (packages/server/test/adversarial.test.mjs and the Next.js
// part in examples/next-app/test/route-confusion.test.mjs): exact HTTP/1.1 bytes on a socket,
// signed requests as header lists and one table of their mutations, the tally of outcomes.

import assert from 'node:assert/strict'
import net from 'node:net'
import { randomBytes } from 'node:crypto'
import initClientCore, * as clientCore from '../../../client/wasm/nen_wasm.js'
import { wasmBase64 } from '../../../client/wasm/nen_wasm_bytes.js'
import { codeOf, parseResponse } from './hop.mjs'

await initClientCore({ module_or_path: Buffer.from(wasmBase64, 'base64') })

export { clientCore }

// ---------------------------------------------------------------------------------------------
// The tally behind the printed summary.

/** kind -> { cases, refused, accepted, unexpected } */
const tally = new Map()

function count(kind, field) {
  if (!tally.has(kind)) tally.set(kind, { cases: 0, refused: 0, accepted: 0, unexpected: 0 })
  const t = tally.get(kind)
  t.cases++
  t[field]++
}

/** Prints one line per kind and the total; `prefix` names the suite. */
export function printSummary(prefix = 'adversarial') {
  const line = (name, t) => `${prefix}: ${name}: ${t.cases} cases, ${t.refused} refused as expected, ${t.accepted} accepted as expected (honest controls), ${t.unexpected} unexpected`
  const total = { cases: 0, refused: 0, accepted: 0, unexpected: 0 }
  for (const [kind, t] of tally) {
    console.log(line(kind, t))
    for (const k of Object.keys(total)) total[k] += t[k]
  }
  console.log(line('total', total))
  return total
}

/**
 * Runs the cases of one test, each `[label, expectation ('refused' | 'accepted'), fn]`; every case
 * runs and is counted, and the test fails at the end listing every unexpected outcome.
 */
export async function runCases(kind, cases) {
  const failures = []
  for (const [label, expectation, fn] of cases) {
    try {
      await fn()
      count(kind, expectation)
    } catch (e) {
      count(kind, 'unexpected')
      failures.push(`${label}: ${e?.message ?? e}`)
    }
  }
  assert.deepEqual(failures, [], `${failures.length} unexpected outcome(s):\n${failures.join('\n')}`)
}

// ---------------------------------------------------------------------------------------------
// The wire: exact HTTP/1.1 bytes on a socket.

/**
 * One request written as given: `${method} ${target} HTTP/1.1`, then `headers` (pairs, in
 * order, duplicates kept), then content-length (unless `chunks` or `noLength`), then the body.
 * `chunks`: the body in chunked transfer coding. Resolves with `{ status, headers, text }`, or
 * `{ status: null, raw }` if the server closed without answering.
 */
export function wire(base, { method, target, headers = [], body, chunks, noLength = false }) {
  const { hostname, port } = new URL(base)
  const lines = [`${method} ${target} HTTP/1.1`, `host: ${hostname}:${port}`, 'connection: close', ...headers.map(([k, v]) => `${k}: ${v}`)]
  if (chunks) lines.push('transfer-encoding: chunked')
  else if (!noLength) lines.push(`content-length: ${body === undefined ? 0 : Buffer.byteLength(body)}`)
  let payload = `${lines.join('\r\n')}\r\n\r\n`
  if (chunks) payload += `${chunks.map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join('')}0\r\n\r\n`
  else payload += body ?? ''
  return exchange(base, [payload])
}

/**
 * Writes `parts` (strings, or `{ wait: ms }`) to a fresh connection and resolves once the server
 * closes it (every request says `connection: close`): `{ status, headers, text, ms, raw }`.
 * `halfClose`: then sends FIN, as a client that stops sending does (node:http, without
 * `httpAllowHalfOpen`, then aborts the request and answers nothing); `destroyAfter`: then resets.
 */
export function exchange(base, parts, { halfClose = false, destroyAfter = false, timeoutMs = 10_000 } = {}) {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const got = []
    let hung = false
    const sock = net.connect(Number(port), hostname, async () => {
      for (const p of parts) {
        if (typeof p === 'object') await new Promise((r) => setTimeout(r, p.wait))
        else if (!sock.destroyed) sock.write(p)
      }
      if (destroyAfter) sock.destroy()
      else if (halfClose && !sock.destroyed) sock.end()
    })
    // A server that never closes must fail the case, not hang the suite.
    const timer = setTimeout(() => {
      hung = true
      sock.destroy()
    }, timeoutMs)
    sock.on('data', (c) => got.push(c))
    sock.on('error', (e) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? undefined : reject(e)))
    sock.on('close', () => {
      clearTimeout(timer)
      const raw = Buffer.concat(got)
      const ms = performance.now() - t0
      if (hung) return resolve({ status: 'still open', headers: {}, text: '', ms, raw: raw.toString('latin1') })
      if (raw.indexOf('\r\n\r\n') < 0) return resolve({ status: null, headers: {}, text: '', ms, raw: raw.toString('latin1') })
      try {
        resolve({ ...parseResponse(raw), ms, raw: raw.toString('latin1') })
      } catch (e) {
        reject(e)
      }
    })
  })
}

// ---------------------------------------------------------------------------------------------
// Signed requests as header lists, and their mutations.

export const V = 'x-nen-version'
export const S = 'x-nen-session'
export const T = 'x-nen-timestamp'
export const N = 'x-nen-nonce'
export const G = 'x-nen-signature'
export const K = 'x-nen-idempotency-key'

/** A session of the client core, driven by hand (to put on the wire what NenClient would not). */
export async function rawSession(base, handshakePath = '/api/nen/handshake') {
  const hs = clientCore.ClientHandshake.start('hybrid')
  const res = await fetch(`${base}${handshakePath}`, { method: 'POST', body: hs.body })
  assert.equal(res.status, 200, 'handshake')
  return hs.finish(await res.text())
}

let seq = 0
/** A signed request `{ method, target, headers: [[k, v]], body, signed }`. */
export function signReq(session, opts = {}) {
  const { method = 'POST', target = '/api/echo?x=1', ts } = opts
  // `json: undefined` (no body) is not the default body: hence `in`, not a destructuring default.
  const json = 'json' in opts ? opts.json : JSON.stringify({ n: ++seq })
  const idem = 'idem' in opts ? opts.idem : `idem-${++seq}-${randomBytes(4).toString('hex')}`
  const signed = session.sign(method, target, method === 'GET' || method === 'HEAD' ? undefined : (json ?? undefined), ts, idem ?? undefined)
  return { method, target, headers: Object.entries(signed.headers), body: signed.body, signed }
}

export const get = (r, name) => r.headers.find(([k]) => k === name)?.[1]
export const set = (r, name, value) => ({ ...r, headers: r.headers.map(([k, v]) => [k, k === name ? value : v]) })
export const drop = (r, name) => ({ ...r, headers: r.headers.filter(([k]) => k !== name) })
export const dup = (r, name) => ({ ...r, headers: [...r.headers, [name, get(r, name)]] })
export const withBody = (r, body) => ({ ...r, body })

/** One bit of the decoded bytes flipped (`at`: byte index, negative from the end). */
export function flipB64(s, at = 0) {
  const b = Buffer.from(s, 'base64')
  b[at < 0 ? b.length + at : at] ^= 0x01
  return b.toString('base64')
}
/** One hex digit changed. */
export const flipHex = (s) => s.slice(0, 5) + (s[5] === 'a' ? 'b' : 'a') + s.slice(6)
/** The last decimal digit changed. */
export const flipDigit = (s) => s.slice(0, -1) + String((Number(s.at(-1)) + 1) % 10)
export const ct = (r) => JSON.parse(r.body).ct

/**
 * [label, mutate(a, ctx), [status, code]]: `a` is a fresh signed request with a body and an
 * idempotency key; `ctx.b` another one on the same session signed a second earlier,
 * `ctx.other` one on another session. `[200, null]`: accepted, the handler runs once.
 */
export const HEADER_CASES = [
  // X-Nen-Version
  ['x-nen-version flipped (1 → 0)', (a) => set(a, V, '0'), [400, 'ISO-1005']],
  ['x-nen-version dropped', (a) => drop(a, V), [400, 'ISO-1005']],
  ['x-nen-version duplicated', (a) => dup(a, V), [400, 'ISO-1005']],
  ['x-nen-version swapped (the same value: a no-op)', (a, { b }) => set(a, V, get(b, V)), [200, null]],
  // X-Nen-Session
  ['x-nen-session flipped (one hex digit)', (a) => set(a, S, flipHex(get(a, S))), [401, 'ISO-2002']],
  ['x-nen-session upper-cased', (a) => set(a, S, get(a, S).toUpperCase()), [401, 'ISO-2002']],
  ['x-nen-session dropped', (a) => drop(a, S), [401, 'ISO-2003']],
  ['x-nen-session duplicated', (a) => dup(a, S), [401, 'ISO-2002']],
  ['x-nen-session swapped (another live session)', (a, { other }) => set(a, S, get(other, S)), [401, 'ISO-3002']],
  // X-Nen-Timestamp
  ['x-nen-timestamp flipped (last digit)', (a) => set(a, T, flipDigit(get(a, T))), [401, 'ISO-3002']],
  ['x-nen-timestamp dropped', (a) => drop(a, T), [401, 'ISO-3008']],
  ['x-nen-timestamp duplicated', (a) => dup(a, T), [401, 'ISO-3008']],
  ['x-nen-timestamp swapped', (a, { b }) => set(a, T, get(b, T)), [401, 'ISO-3002']],
  // X-Nen-Nonce
  ['x-nen-nonce flipped (one bit)', (a) => set(a, N, flipB64(get(a, N))), [401, 'ISO-3002']],
  ['x-nen-nonce dropped', (a) => drop(a, N), [401, 'ISO-3005']],
  ['x-nen-nonce duplicated', (a) => dup(a, N), [400, 'ISO-6002']],
  ['x-nen-nonce swapped', (a, { b }) => set(a, N, get(b, N)), [401, 'ISO-3002']],
  // X-Nen-Signature
  ['x-nen-signature flipped (one bit)', (a) => set(a, G, flipB64(get(a, G), 31)), [401, 'ISO-3002']],
  ['x-nen-signature cut by one char', (a) => set(a, G, get(a, G).slice(0, -1)), [400, 'ISO-6002']],
  ['x-nen-signature dropped', (a) => drop(a, G), [401, 'ISO-3001']],
  ['x-nen-signature duplicated', (a) => dup(a, G), [400, 'ISO-6002']],
  ['x-nen-signature swapped', (a, { b }) => set(a, G, get(b, G)), [401, 'ISO-3002']],
  ['x-nen-signature swapped (another session)', (a, { other }) => set(a, G, get(other, G)), [401, 'ISO-3002']],
  // X-Nen-Idempotency-Key
  ['x-nen-idempotency-key flipped (one char)', (a) => set(a, K, `${get(a, K).slice(0, -1)}#`), [401, 'ISO-3002']],
  ['x-nen-idempotency-key dropped', (a) => drop(a, K), [401, 'ISO-3002']],
  ['x-nen-idempotency-key duplicated', (a) => dup(a, K), [400, 'ISO-6006']],
  ['x-nen-idempotency-key swapped', (a, { b }) => set(a, K, get(b, K)), [401, 'ISO-3002']],
  // The body's `ct`
  ['ct flipped (one bit of the ciphertext)', (a) => withBody(a, JSON.stringify({ ct: flipB64(ct(a), 0) })), [400, 'ISO-4001']],
  ['ct flipped (one bit of the tag)', (a) => withBody(a, JSON.stringify({ ct: flipB64(ct(a), -1) })), [401, 'ISO-3002']],
  ['ct flipped (one char to a non-base64 one)', (a) => withBody(a, JSON.stringify({ ct: `!${ct(a).slice(1)}` })), [400, 'ISO-6002']],
  ['ct dropped (`{}`)', (a) => withBody(a, '{}'), [400, 'ISO-6001']],
  ['body dropped', (a) => withBody(a, undefined), [401, 'ISO-3002']],
  ['ct duplicated in the envelope', (a) => withBody(a, `{"ct":"${ct(a)}","ct":"${ct(a)}"}`), [400, 'ISO-6001']],
  ['ct swapped', (a, { b }) => withBody(a, b.body), [401, 'ISO-3002']],
  ['ct swapped (another session)', (a, { other }) => withBody(a, other.body), [401, 'ISO-3002']],
  ['every header swapped, the body kept', (a, { b }) => ({ ...b, body: a.body }), [401, 'ISO-3002']],
  ['an extra envelope field', (a) => withBody(a, JSON.stringify({ ct: ct(a), n: 'AAAA' })), [400, 'ISO-6001']],
]

/** The reply is exactly `[status, code]`, plain (never sealed), with the code in x-nen-error. */
export function assertRefused(reply, [status, code]) {
  assert.equal(reply.status, status, `status (got ${reply.status}: ${JSON.stringify((reply.text || reply.raw || '').slice(0, 160))})`)
  assert.equal(codeOf(reply), code, 'code')
  if (code !== null) {
    assert.equal(reply.headers['x-nen-error'], code, 'x-nen-error')
    assert.equal(JSON.parse(reply.text).error.code, code)
  }
  assert.equal(reply.headers['x-nen-response'], undefined, 'a refusal is not sealed')
}
