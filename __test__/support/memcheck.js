'use strict'
// The addon's main native paths once each, for `scripts/sanitize.sh --memcheck` (node under
// valgrind memcheck, about 30x slower, so no timing assertion and few iterations): handshakes of
// both modes, requests with and without a body, HEAD, a replay, a swapped and a malformed body, a stream and a
// truncated one, sealed errors, rotation, status and terminate, memory stats. Every outcome is
// asserted, so a path that stops working fails here too. Prints "memcheck paths: ok".

const assert = require('node:assert/strict')
const { nen, connect, sign, roundTrip, rejectsWith } = require('./nen')

async function main() {
  const server = new nen.NenServer({ streamPadding: 32, rotationGraceMs: 60_000 })
  for (const mode of ['hybrid', 'mlkem768']) {
    const session = await connect(server, { mode })
    assert.deepEqual((await roundTrip(server, session, 'POST', '/api/x', { hello: mode })).output, { echo: { hello: mode } })
    assert.equal((await roundTrip(server, session, 'GET', '/api/x')).input, null)
    await roundTrip(server, session, 'HEAD', '/api/x')
  }
  const sync = nen.NenClientHandshake.start()
  const session = sync.finish(server.handshakeSync(sync.body).body)

  const { req } = sign(session, 'POST', '/api/once', { n: 1 })
  server.openSync(req)
  assert.throws(() => server.openSync(req), (e) => e.code === 'ISO-5001')
  const swapped = sign(session, 'POST', '/api/x', { n: 2 }).req
  swapped.body = sign(session, 'POST', '/api/x', { n: 3 }).req.body
  await rejectsWith(() => server.open(swapped), 'ISO-3002', 401)
  await rejectsWith(() => server.open({ ...sign(session, 'POST', '/api/x', {}).req, body: '{"x":1}' }), 'ISO-6001', 400)

  const s = sign(session, 'POST', '/api/chat', { prompt: 'hi' })
  const stream = server.stream(server.openSync(s.req))
  const frames = ['Hel', 'lo', Buffer.from(' world')].map((t) => stream.chunk(t))
  const wire = frames.join('') + stream.finish()
  const reader = session.openStream(s.signed, stream.headers['x-nen-stream-nonce'])
  assert.deepEqual(reader.push(wire), ['Hel', 'lo', ' world'])
  reader.finish()
  const truncated = session.openStream(s.signed, stream.headers['x-nen-stream-nonce'])
  truncated.push(frames.join(''))
  assert.throws(() => truncated.finish(), (e) => e.code === 'ISO-7003')

  const e = sign(session, 'GET', '/api/fails')
  const sealed = server.sealError(server.openSync(e.req), 'ISO-8001')
  assert.equal(sealed.status, 503)
  assert.throws(() => session.open(e.signed, sealed.status, sealed.body), (err) => err.code === 'ISO-8001' && err.authenticated === true)

  const rot = session.beginRotation('hybrid')
  const rr = sign(session, 'POST', '/api/nen/rotate', JSON.parse(rot.body))
  const next = rot.finish(session.open(rr.signed, 200, (await server.rotate(rr.req)).body))
  await roundTrip(server, next, 'GET', '/api/after')
  const st = sign(next, 'GET', '/api/nen/status')
  assert.equal(JSON.parse(next.open(st.signed, 200, (await server.status(st.req)).body)).sid, next.sid)
  const t = sign(next, 'POST', '/api/nen/terminate')
  assert.deepEqual(JSON.parse(next.open(t.signed, 200, (await server.terminate(t.req)).body)), { terminated: true })
  await rejectsWith(() => server.open(sign(next, 'GET', '/api/x').req), 'ISO-2002', 401)
  assert.equal(server.memoryStats().sessions, 3)
  console.log('memcheck paths: ok')
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
