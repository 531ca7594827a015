'use strict'
// One handshake and one sealed round trip on whichever binary @withnen/server-native loads,
// and a replay refused with its code: scripts/cross-build.sh runs it under qemu-user to prove
// a cross-built binary works, not only that it links.
const assert = require('node:assert/strict')
const nen = require('../nen.js')

const server = new nen.NenServer()
const hs = nen.NenClientHandshake.start()
const session = hs.finish(server.handshakeSync(hs.body).body)
const signed = session.sign('POST', '/api/echo', JSON.stringify({ hello: 'arm64' }))
const opened = server.openSync({ method: 'POST', url: '/api/echo', headers: signed.headers, body: signed.body })
assert.equal(session.open(signed, 200, server.seal(opened, opened.body, 200)), '{"hello":"arm64"}')
assert.throws(() => server.openSync({ method: 'POST', url: '/api/echo', headers: signed.headers, body: signed.body }), (e) => e.code === 'ISO-5001')
console.log(`${process.arch} (Node ${process.version}): handshake, sealed round trip and replay refusal (ISO-5001) ok`)
