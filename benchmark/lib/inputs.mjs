// Inputs shared by the sections: the addon, fixed JSON bodies and real signed requests from the
// native client (signing is client work: always done before a clock starts).

import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
/** The addon at the repository root (`../nen.js`), as the packages load it inside this repository. */
export const nen = require('../../nen.js')

/** Deterministic JSON text of exactly `size` bytes: records, then a padding string. */
export function jsonOfSize(size) {
  const doc = { items: [], pad: '' }
  // The length of JSON.stringify(doc) kept as items are added (stringifying each time is quadratic).
  let length = JSON.stringify(doc).length
  for (let i = 0; length + 48 < size; i++) {
    const item = { id: i, name: `item-${i}`, qty: i % 7 }
    length += JSON.stringify(item).length + (i > 0 ? 1 : 0)
    doc.items.push(item)
  }
  doc.pad = 'x'.repeat(size - length)
  const text = JSON.stringify(doc)
  if (Buffer.byteLength(text) !== size) throw new Error(`body of ${Buffer.byteLength(text)} bytes, wanted ${size}`)
  return text
}

/** What every GET answers: a small JSON object. */
export const SMALL = { ok: true, items: [1, 2, 3], name: 'nen' }
export const SMALL_TEXT = JSON.stringify(SMALL)

/** A native client session against `handshake` (a function from request body to reply body). */
export function clientSession(handshake, mode = 'hybrid') {
  const hs = nen.NenClientHandshake.start(mode)
  return hs.finish(handshake(hs.body))
}

/** `count` fresh signed requests of `session`, in the shape NenServer.open takes. */
export function signRequests(session, count, method, target, json) {
  const reqs = new Array(count)
  for (let i = 0; i < count; i++) {
    const s = session.sign(method, target, json)
    reqs[i] = { method, url: target, headers: s.headers, body: s.body ?? undefined, signed: s }
  }
  return reqs
}

/** Throws unless the client opens `body` (answering `signed` with `status`) to exactly `expected`. */
export function checkAnswer(session, signed, status, body, expected, what) {
  const a = session.openAnswer(signed, status, body)
  if (a.errorCode) throw new Error(`${what}: the server sealed failure ${a.errorCode}`)
  if (a.body !== expected) throw new Error(`${what}: the sealed answer opened to other JSON than expected`)
}
