'use strict'
// Drives the server with the package's own native client: a real handshake and real requests,
// nothing stubbed.

const nen = require('../..')

async function connect(server, { mode = 'hybrid', pin } = {}) {
  const hs = nen.NenClientHandshake.start(mode)
  const reply = await server.handshake(hs.body)
  if (reply.status !== 200) throw new Error(`handshake answered ${reply.status}`)
  return hs.finish(reply.body, pin)
}

/** Signs a request; returns the signed handle and the request object the server takes. */
function sign(session, method, url, json, timestampMs, idempotencyKey) {
  const signed = session.sign(method, url, json === undefined ? null : JSON.stringify(json), timestampMs, idempotencyKey)
  return { signed, req: { method, url, headers: signed.headers, body: signed.body ?? undefined } }
}

/** Asserts a plain (unauthenticated) error reply: status, body code and the x-nen-error hint. */
function plainReply(reply, code, status) {
  const body = JSON.parse(reply.body)
  if (body.error?.code !== code || reply.status !== status || reply.headers['x-nen-error'] !== code) {
    throw new Error(`expected plain ${code} ${status}, got ${reply.status} ${reply.body} ${JSON.stringify(reply.headers)}`)
  }
}

/** Asserts a sealed error reply for `signed`: the client opens it as an authenticated NenError. */
function sealedReply(session, signed, reply, code, status) {
  if (reply.status !== status) throw new Error(`expected status ${status}, got ${reply.status} ${reply.body}`)
  if (reply.body.includes('ISO-') || reply.headers['x-nen-error'] !== undefined) throw new Error(`the code travelled in clear: ${reply.body}`)
  let err
  try {
    session.open(signed, reply.status, reply.body)
  } catch (e) {
    err = e
  }
  if (!(err instanceof nen.NenError) || err.code !== code || err.authenticated !== true) {
    throw new Error(`expected authenticated ${code}, got ${err ? `${err.code} authenticated=${err.authenticated}` : 'a body'}`)
  }
}

/** A full exchange through `server`: open, let `handler` answer, seal, open on the client. */
async function roundTrip(server, session, method, url, json, handler = (body) => ({ echo: body })) {
  const { signed, req } = sign(session, method, url, json)
  const opened = server.isSync ? server.openSync(req) : await server.open(req)
  const input = opened.body === null ? null : JSON.parse(opened.body)
  if (method === 'HEAD') {
    session.openHead(signed, 200, server.sealHead(opened, 200))
    return { input, output: null }
  }
  const sealed = server.seal(opened, JSON.stringify(handler(input)), 200)
  return { input, output: JSON.parse(session.open(signed, 200, sealed)), sealed, req }
}

/** Asserts that `fn` fails (throws or rejects) with a NenError of `code` and `status`. */
async function rejectsWith(fn, code, status) {
  let err
  try {
    await fn()
  } catch (e) {
    err = e
  }
  if (!err) throw new Error(`expected ${code}, got success`)
  if (!(err instanceof nen.NenError)) throw new Error(`expected NenError ${code}, got ${err && err.stack}`)
  if (err.code !== code) throw new Error(`expected ${code}, got ${err.code} (${err.message})`)
  if (status !== undefined && err.status !== status) throw new Error(`expected status ${status} for ${code}, got ${err.status}`)
  return err
}

module.exports = { nen, connect, sign, roundTrip, rejectsWith, plainReply, sealedReply }
