// In process, on the addon directly, against the peer (lib/peer.mjs):
//   a. server handshake, hybrid and mlkem768: handshakeSync, handshake() one at a time and 64 in flight
//   b. per request, 64 B / 1 KiB / 16 KiB / 1 MiB JSON: openSync + seal, against the peer with
//      node:crypto and with @noble/ciphers, and JSON.parse + JSON.stringify as a floor
//   c. the thread hop: open() (tokio) against openSync(), one at a time and 64 in flight
//   d. stream chunks (16-byte tokens): NenStream.chunk against the peers' per-chunk AEAD

import { section } from '../lib/child.mjs'
import { scale } from '../lib/config.mjs'
import { bench, compare, noteLoad } from '../lib/inproc.mjs'
import { clientSession, jsonOfSize, nen, signRequests } from '../lib/inputs.mjs'
import { PeerServer, checkPeerSpeaksNen } from '../lib/peer.mjs'

const IN_FLIGHT = 64
const MiB = 2 ** 20
const SIZES = [
  ['64 B', 64, 20_000],
  ['1 KiB', 1024, 10_000],
  ['16 KiB', 16 * 1024, 2_000],
  ['1 MiB', MiB, 40],
]
// The 1 MiB body's envelope is about 1.4 MB of base64: both servers accept 4 MiB.
const SERVER_OPTIONS = { maxBodyBytes: 4 * MiB }

const label = (rows, id, r) => rows.push({ id, ...r })

async function handshakes(rows) {
  console.log('\na. Server handshake (client key generation done before timing)')
  for (const mode of ['hybrid', 'mlkem768']) {
    const bodies = (n) => Array.from({ length: n }, () => nen.NenClientHandshake.start(mode).body)
    const nenSetup = (n) => ({ server: new nen.NenServer(), bodies: bodies(n) })
    const handshake = (c, i) => c.server.handshake(c.bodies[i])
    const iterations = scale(300)
    const [sync, serial, par, peer] = await compare([
      bench(`${mode}: handshakeSync`, (c, i) => c.server.handshakeSync(c.bodies[i]), { iterations, setup: nenSetup }),
      bench(`${mode}: handshake() one at a time`, handshake, { iterations, setup: nenSetup, concurrency: 1 }),
      bench(`${mode}: handshake() ${IN_FLIGHT} in flight`, handshake, { iterations, setup: nenSetup, concurrency: IN_FLIGHT }),
      bench(`${mode}: peer (noble ML-KEM${mode === 'hybrid' ? ' + X25519' : ''} + node:crypto)`, (c, i) => c.server.handshake(c.bodies[i]), {
        iterations: scale(100),
        setup: (n) => ({ server: new PeerServer(), bodies: bodies(n) }),
      }),
    ])
    noteLoad([sync, serial, par, peer])
    label(rows, `core.hs.${mode}.sync`, sync)
    label(rows, `core.hs.${mode}.async1`, serial)
    label(rows, `core.hs.${mode}.async64`, par)
    label(rows, `core.hs.${mode}.peer`, peer)
  }
}

async function requests(rows) {
  console.log('\nb. Per request: open (verify MAC, window, replay, decrypt) + seal a same-size response')
  for (const [name, size, n] of SIZES) {
    const json = jsonOfSize(size)
    const iterations = scale(n)
    const server = new nen.NenServer(SERVER_OPTIONS)
    const session = clientSession((body) => server.handshakeSync(body).body)
    const peers = ['node', 'noble'].map((aead) => {
      const peer = new PeerServer(aead)
      return { peer, session: clientSession((body) => peer.handshake(body).body) }
    })
    // The @noble/ciphers peer is several times slower: a quarter of the iterations keeps its rounds short.
    const peerCase = ({ peer, session: s }, what, n) =>
      bench(
        `${name}: peer (${what})`,
        (reqs, i) => {
          const opened = peer.open(reqs[i])
          if (opened.body.length !== size) throw new Error('wrong body')
          peer.seal(opened, json, 200)
        },
        { iterations: n, setup: (k) => signRequests(s, k, 'POST', '/api/items/7', json) },
      )
    const results = await compare([
      bench(
        `${name}: openSync + seal`,
        (reqs, i) => {
          const opened = server.openSync(reqs[i])
          if (opened.body.length !== size) throw new Error('wrong body')
          server.seal(opened, json, 200)
        },
        { iterations, setup: (k) => signRequests(session, k, 'POST', '/api/items/7', json) },
      ),
      peerCase(peers[0], 'node:crypto HMAC + ChaCha20-Poly1305 + Map', iterations),
      peerCase(peers[1], 'node:crypto HMAC + @noble/ciphers ChaCha20-Poly1305', Math.max(4, iterations >> 2)),
      bench(`${name}: no crypto (JSON.parse + JSON.stringify)`, () => JSON.stringify(JSON.parse(json)), { iterations }),
    ])
    noteLoad(results)
    const key = name.replace(' ', '').toLowerCase()
    for (const [k, r] of ['nen', 'peer', 'noble', 'floor'].entries()) label(rows, `core.req.${key}.${r}`, results[k])
  }
}

async function hop(rows) {
  console.log('\nc. Thread hop: open() (tokio task) against openSync(), 1 KiB POST, open only')
  const json = jsonOfSize(1024)
  const server = new nen.NenServer()
  const session = clientSession((body) => server.handshakeSync(body).body)
  const opts = { iterations: scale(5_000), setup: (k) => signRequests(session, k, 'POST', '/api/items/7', json) }
  const open = (reqs, i) => server.open(reqs[i]).then((o) => o.body)
  const results = await compare([
    bench('openSync()', (reqs, i) => server.openSync(reqs[i]).body, opts),
    bench('open() one at a time', open, { ...opts, concurrency: 1 }),
    bench(`open() ${IN_FLIGHT} in flight`, open, { ...opts, concurrency: IN_FLIGHT }),
  ])
  noteLoad(results)
  for (const [k, r] of ['sync', 'async1', 'async64'].entries()) label(rows, `core.hop.${r}`, results[k])
}

async function chunks(rows) {
  console.log('\nd. Stream: seal one 16-byte token into an SSE frame (no padding, the server default)')
  const token = 'token-0123456789'
  const request = '{"prompt":"hi"}'
  const server = new nen.NenServer()
  const session = clientSession((body) => server.handshakeSync(body).body)
  const iterations = scale(50_000)
  const peerCase = (aead) => {
    const peer = new PeerServer(aead)
    const s = clientSession((body) => peer.handshake(body).body)
    return bench(`peer (${aead === 'node' ? 'node:crypto' : '@noble/ciphers'} ChaCha20-Poly1305 per chunk)`, (st) => st.chunk(token), {
      iterations,
      setup: () => peer.stream(peer.open(signRequests(s, 1, 'POST', '/api/chat', request)[0])),
    })
  }
  const results = await compare([
    bench('NenStream.chunk', (s) => s.chunk(token), {
      iterations,
      setup: () => server.stream(server.openSync(signRequests(session, 1, 'POST', '/api/chat', request)[0])),
    }),
    peerCase('node'),
    peerCase('noble'),
  ])
  noteLoad(results)
  for (const [k, r] of ['nen', 'peer', 'noble'].entries()) label(rows, `core.chunk.${r}`, results[k])
}

export async function run() {
  checkPeerSpeaksNen()
  console.log('  peer check: the native client completed handshake, request, response and stream against both peers')
  const rows = []
  await handshakes(rows)
  await requests(rows)
  await hop(rows)
  await chunks(rows)
  return rows
}

section(run)
