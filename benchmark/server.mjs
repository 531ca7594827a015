// Benchmarks of @withnen/server-native against what a Node user would write instead, measured
// side by side in one process and one run. Results are ratios against peers from the same run,
// never thresholds: nothing here passes or fails on time.
//
//   npm ci --prefix benchmark && node benchmark/server.mjs
//
// What runs (fixed counts and order; only keys, nonces and timings vary between runs):
//   a. server handshake, hybrid and mlkem768: handshakeSync, handshake() one at a time and 64
//      in flight, against @noble/post-quantum ML-KEM-768 (+ @noble/curves X25519) + node:crypto
//   b. per request, 64 B / 1 KiB / 16 KiB JSON: openSync + seal against node:crypto doing the
//      same protocol work, and JSON.parse + JSON.stringify of the same body as a floor
//   c. the thread hop: open() (tokio) against openSync(), one at a time and 64 in flight
//   d. stream chunks (16-byte tokens): NenStream.chunk against node:crypto per-chunk AEAD
//
// Every input is real: handshake bodies come from the native client (NenClientHandshake),
// requests from its sessions (session.sign), produced before timing, each opened exactly once.
// The peers speak the same protocol: before timing, the native client finishes a handshake
// against the peer, the peer opens the client's requests, and the client opens the peer's
// responses and stream frames. A peer that got the protocol wrong would stop the run there.

import { createRequire } from 'node:module'
import { readdirSync, readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import os from 'node:os'
import crypto from 'node:crypto'
import v8 from 'node:v8'
import vm from 'node:vm'
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js'
import { x25519 } from '@noble/curves/ed25519.js'

const require = createRequire(import.meta.url)
const nen = require('../nen.js')

const QUICK = process.argv.includes('--quick') // a smoke run: few iterations, numbers meaningless
const ROUNDS = QUICK ? 2 : 7
const scale = (n) => (QUICK ? Math.max(8, Math.ceil(n / 20)) : n)
const IN_FLIGHT = 64
v8.setFlagsFromString('--expose-gc')
const collectGarbage = vm.runInNewContext('gc') // each round starts on a clean heap, pays for its own garbage

// ---------------------------------------------------------------------------------------------
// The harness

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * One measured case: `op(ctx, i)` for i < `iterations`, per round. `setup(iterations)` prepares
 * each round's inputs untimed (a request opens once only, so every round gets fresh ones).
 * `concurrency`: 0 calls `op` in a plain loop, 1 awaits each call, n > 1 keeps n calls in flight.
 * A full GC runs before the clock starts, so no round pays for another's garbage.
 */
function bench(name, op, { iterations, setup = () => undefined, concurrency = 0 }) {
  return {
    name,
    async round() {
      const ctx = await setup(iterations)
      collectGarbage()
      const tokio0 = tokioCpu()
      const elu0 = performance.eventLoopUtilization()
      const t0 = process.hrtime.bigint()
      if (concurrency === 0) {
        for (let i = 0; i < iterations; i++) op(ctx, i)
      } else {
        await inFlight(concurrency, iterations, (i) => op(ctx, i))
      }
      const wall = Number(process.hrtime.bigint() - t0) / 1e3
      const loop = performance.eventLoopUtilization(elu0).active * 1e3
      return { us: wall / iterations, js: loop / iterations, tokio: (tokioCpu() - tokio0) / iterations }
    },
  }
}

/**
 * Runs cases side by side: one untimed warm-up round of each, then `rounds` timed rounds with
 * the cases interleaved (A B C A B C ...), so drifting machine load hits them alike. Reports the
 * median wall µs per op of each, how long per op the event loop was busy (not waiting for I/O
 * or tokio) and the tokio workers' CPU per op, and how busy other processes kept the machine.
 */
async function compare(cases, { rounds = ROUNDS } = {}) {
  for (const c of cases) await c.round()
  const meter = otherLoad()
  const samples = cases.map(() => [])
  for (let r = 0; r < rounds; r++) for (const [k, c] of cases.entries()) samples[k].push(await c.round())
  const results = cases.map((c, k) => {
    const wall = samples[k].map((x) => x.us)
    const us = median(wall)
    const js = median(samples[k].map((x) => x.js))
    const tokio = median(samples[k].map((x) => x.tokio))
    const spread = (Math.max(...wall) - Math.min(...wall)) / 2 / us
    const threads = `JS thread ${fmtUs(js)}${tokio > 0.05 ? ` + tokio ${fmtUs(tokio)}` : ''} µs/op`
    console.log(`  ${c.name.padEnd(56)} ${fmtUs(us).padStart(7)} µs/op ${fmtRate(1e6 / us).padStart(10)}/s  ±${(spread * 100).toFixed(0).padStart(2)}%  ${threads}`)
    return { name: c.name, us, js, tokio, perSec: 1e6 / us }
  })
  const others = meter()
  if (others > 0.1) console.log(`  (other processes kept ${others.toFixed(2)} cores busy meanwhile: expect noise)`)
  return results
}

/** Runs `start(i)` for i < total, keeping at most `n` promises pending. */
async function inFlight(n, total, start) {
  let next = 0
  const lane = async () => {
    while (next < total) await start(next++)
  }
  await Promise.all(Array.from({ length: Math.min(n, total) }, lane))
}

/** CPU time so far, in µs, of this process's tokio workers (per-thread schedstat; exact while they sleep). */
function tokioCpu() {
  let us = 0
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'latin1').startsWith('tokio')) {
        us += Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ')[0]) / 1e3
      }
    } catch {
      // the thread exited meanwhile
    }
  }
  return us
}

/** Starts measuring; the returned function gives the cores other processes used since then. */
function otherLoad() {
  const machine = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 8).map(Number)
    return { busy: f[0] + f[1] + f[2] + f[5] + f[6], hz: 100 } // user nice system irq softirq, in USER_HZ
  }
  const a = machine()
  const own = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  return () => {
    const b = machine()
    const ownUs = process.cpuUsage(own)
    const wallUs = Number(process.hrtime.bigint() - t0) / 1e3
    const busyUs = ((b.busy - a.busy) / a.hz) * 1e6
    return Math.max(0, (busyUs - ownUs.user - ownUs.system) / wallUs)
  }
}

const fmtUs = (us) => (us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2))
const fmtRate = (r) => Math.round(r).toLocaleString('en-US').replace(/,/g, ' ')
const times = (a, b) => `${(a / b).toFixed(1)}x`
const ratio = (peer, ours) => times(peer.us, ours.us)

// ---------------------------------------------------------------------------------------------
// Inputs

/** Deterministic JSON text of exactly `size` bytes: records, then a padding string. */
function jsonOfSize(size) {
  const doc = { items: [], pad: '' }
  for (let i = 0; JSON.stringify(doc).length + 48 < size; i++) doc.items.push({ id: i, name: `item-${i}`, qty: i % 7 })
  doc.pad = 'x'.repeat(size - JSON.stringify(doc).length)
  const text = JSON.stringify(doc)
  if (Buffer.byteLength(text) !== size) throw new Error(`body of ${Buffer.byteLength(text)} bytes, wanted ${size}`)
  return text
}

const SIZES = [
  ['64 B', 64, 20_000],
  ['1 KiB', 1024, 10_000],
  ['16 KiB', 16 * 1024, 2_000],
]

/** A native client session against `handshake` (a function from request body to reply body). */
function clientSession(handshake, mode = 'hybrid') {
  const hs = nen.NenClientHandshake.start(mode)
  return hs.finish(handshake(hs.body))
}

/** `count` fresh signed requests of `session`, in the shape NenServer.open takes. */
function signRequests(session, count, method, target, json) {
  const reqs = new Array(count)
  for (let i = 0; i < count; i++) {
    const s = session.sign(method, target, json)
    reqs[i] = { method, url: target, headers: s.headers, body: s.body ?? undefined }
  }
  return reqs
}

// ---------------------------------------------------------------------------------------------
// The peer: the same protocol written with @noble/post-quantum, @noble/curves and node:crypto,
// as a Node user would write it (PROTOCOL.md §4, §5, §6, §7). It is favoured where it cuts a
// corner: targets are taken as already canonical (no RFC 3986 normalisation), bodies are not
// checked to be JSON, and its replay Map is never pruned.

const WINDOW_MS = 30_000
const TTL_MS = 3_600_000
const MODES = { hybrid: 1, mlkem768: 2 }
const EMPTY = Buffer.alloc(0)
const XWING_LABEL = Buffer.from('5c2e2f2f5e5c', 'hex')
const ascii = (s) => Buffer.from(s, 'latin1')
const lp = (b) => {
  const len = Buffer.allocUnsafe(4)
  len.writeUInt32BE(b.length)
  return [len, b]
}
const u64 = (n) => {
  const b = Buffer.allocUnsafe(8)
  b.writeBigUInt64BE(BigInt(n))
  return b
}
const hkdf = (ikm, salt, info) => Buffer.from(crypto.hkdfSync('sha256', ikm, salt, info, 32))
/** HKDF-Expand alone, for one 32-byte block: HMAC(prk, info ‖ 0x01). */
const hkdfExpand32 = (prk, info) => crypto.createHmac('sha256', prk).update(info).update(Buffer.of(1)).digest()

class PeerServer {
  sessions = new Map()
  nonces = new Map()

  /** §4.2: parse, encapsulate to the client's key, derive, confirm, store. */
  handshake(bodyText) {
    const req = JSON.parse(bodyText)
    if (req.v !== 1) throw new Error('ISO-1005')
    const mode = MODES[req.mode]
    if (!mode) throw new Error('ISO-1007')
    const ek = Buffer.from(req.ek, 'base64')
    if (ek.length !== 1184) throw new Error('ISO-1002')
    const { cipherText: ct, sharedSecret: ssM } = ml_kem768.encapsulate(ek) // checks the modulus
    let xc = EMPTY
    let xs = EMPTY
    let ss = ssM
    if (mode === MODES.hybrid) {
      xc = Buffer.from(req.x25519, 'base64')
      if (xc.length !== 32) throw new Error('ISO-1002')
      const scalar = x25519.utils.randomSecretKey()
      xs = x25519.getPublicKey(scalar)
      const ssX = x25519.getSharedSecret(scalar, xc)
      if (ssX.every((b) => b === 0)) throw new Error('ISO-1002')
      ss = crypto.createHash('sha3-256').update(ssM).update(ssX).update(xs).update(xc).update(XWING_LABEL).digest()
    }
    const sid = crypto.randomBytes(16)
    const exp = Date.now() + TTL_MS
    const th = crypto.createHash('sha256')
    for (const part of [...lp(ascii('nen/1 transcript')), Buffer.of(1, mode), ...lp(ek), ...lp(xc), ...lp(ct), ...lp(xs), ...lp(sid), u64(exp), ...lp(EMPTY), ...lp(EMPTY)]) th.update(part)
    const transcript = th.digest()
    const session = {
      sid: sid.toString('hex'),
      sidBytes: sid,
      exp,
      kC2s: hkdf(ss, transcript, 'nen/1 key c2s'),
      kS2c: hkdf(ss, transcript, 'nen/1 key s2c'),
      kMac: hkdf(ss, transcript, 'nen/1 key mac'),
      kStream: hkdf(ss, transcript, 'nen/1 key stream'),
    }
    const confirm = crypto.createHmac('sha256', hkdf(ss, transcript, 'nen/1 key confirm')).update('nen/1 confirm').update(transcript).digest()
    this.sessions.set(session.sid, session)
    const res = { v: 1, mode: req.mode, sid: session.sid, ct: Buffer.from(ct).toString('base64') }
    if (mode === MODES.hybrid) res.x25519 = Buffer.from(xs).toString('base64')
    res.exp = exp
    res.confirm = confirm.toString('base64')
    return { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(res) }
  }

  /** §5.4: headers, session, MAC (constant time), window, decrypt, replay. */
  open(req) {
    const h = req.headers
    if (h['x-nen-version'] !== '1') throw new Error('ISO-1005')
    const sid = h['x-nen-session']
    const sig = h['x-nen-signature']
    const nonceB64 = h['x-nen-nonce']
    const tsText = h['x-nen-timestamp']
    if (!sid || !sig || !nonceB64 || !tsText) throw new Error('ISO-2003/3001/3005/3008')
    const session = this.sessions.get(sid)
    const now = Date.now()
    if (!session || session.exp <= now) throw new Error('ISO-2002')
    const q = req.url.indexOf('?')
    const path = q < 0 ? req.url : req.url.slice(0, q)
    const query = q < 0 ? '' : req.url.slice(q + 1)
    const head = `nen/1 request\n${req.method}\n${path}\n${query}\n${sid}\n${tsText}\n${nonceB64}\n`
    let ct = null
    let tag = null
    let descriptor = '-'
    if (req.body) {
      const sealed = Buffer.from(JSON.parse(req.body).ct, 'base64')
      if (sealed.length < 16) throw new Error('ISO-6002')
      ct = sealed.subarray(0, sealed.length - 16)
      tag = sealed.subarray(sealed.length - 16)
      descriptor = `ct ${ct.length} ${tag.toString('base64')}`
    }
    const mac = crypto.createHmac('sha256', session.kMac).update(head).update(descriptor).digest()
    const given = Buffer.from(sig, 'base64')
    if (given.length !== 32 || !crypto.timingSafeEqual(mac, given)) throw new Error('ISO-3002')
    const ts = Number(tsText)
    if (Math.abs(ts - now) > WINDOW_MS) throw new Error('ISO-3003')
    const nonce = Buffer.from(nonceB64, 'base64')
    let body = null
    if (ct) {
      const d = crypto.createDecipheriv('chacha20-poly1305', session.kC2s, nonce, { authTagLength: 16 })
      d.setAAD(Buffer.from(head, 'latin1'), { plaintextLength: ct.length })
      d.setAuthTag(tag)
      body = Buffer.concat([d.update(ct), d.final()]).toString('utf8')
    }
    const key = `${sid}:${nonceB64}`
    if (this.nonces.has(key)) throw new Error('ISO-5001')
    this.nonces.set(key, ts + WINDOW_MS)
    return { session, nonce, nonceB64, body }
  }

  /** §6.1: a fresh nonce, associated data binding request nonce and status. */
  seal(opened, json, status = 200) {
    const n = crypto.randomBytes(12)
    const ad = `nen/1 response\n${opened.session.sid}\n${opened.nonceB64}\n${status}\nbody`
    const c = crypto.createCipheriv('chacha20-poly1305', opened.session.kS2c, n, { authTagLength: 16 })
    c.setAAD(Buffer.from(ad, 'latin1'), { plaintextLength: Buffer.byteLength(json) })
    const sealed = Buffer.concat([c.update(json, 'utf8'), c.final(), c.getAuthTag()])
    return `{"ct":"${sealed.toString('base64')}","n":"${n.toString('base64')}"}`
  }

  /** §7: a stream key per response; chunk i under base XOR i. No padding (the server default). */
  stream(opened) {
    const base = crypto.randomBytes(12)
    const info = Buffer.concat([ascii('nen/1 stream'), opened.session.sidBytes, opened.nonce, base])
    const key = hkdfExpand32(opened.session.kStream, info)
    let i = 0
    const frame = (kind, data, final) => {
      const nonce = Buffer.from(base)
      const ad = Buffer.alloc(20)
      ad.write('nen/1 chunk', 0, 'latin1')
      ad.writeUInt32BE(Math.floor(i / 2 ** 32), 11)
      ad.writeUInt32BE(i >>> 0, 15)
      ad[19] = final ? 1 : 0
      nonce.writeUInt32BE((nonce.readUInt32BE(4) ^ Math.floor(i / 2 ** 32)) >>> 0, 4)
      nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ i) >>> 0, 8)
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
      const plain = Buffer.allocUnsafe(5 + bytes.length)
      plain[0] = kind
      plain.writeUInt32BE(bytes.length, 1)
      bytes.copy(plain, 5)
      const c = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
      c.setAAD(ad, { plaintextLength: plain.length })
      const sealed = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()])
      i++
      return `${final ? 'event: end\n' : ''}data: ${sealed.toString('base64')}\n\n`
    }
    return {
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-nen-stream-nonce': base.toString('base64') },
      chunk: (data) => frame(0, data, false),
      finish: () => frame(1, EMPTY, true),
    }
  }
}

/** The native client runs the whole protocol against the peer; throws if the peer is wrong. */
function checkPeerSpeaksNen() {
  for (const mode of ['hybrid', 'mlkem768']) {
    const peer = new PeerServer()
    const session = clientSession((body) => peer.handshake(body).body, mode)
    const json = jsonOfSize(1024)
    const signed = session.sign('POST', '/api/items/7', json)
    const opened = peer.open({ method: 'POST', url: '/api/items/7', headers: signed.headers, body: signed.body })
    if (opened.body !== json) throw new Error('peer decrypted a different body')
    if (session.open(signed, 201, peer.seal(opened, json, 201)) !== json) throw new Error('peer response did not open')
    const s2 = session.sign('GET', '/api/stream')
    const o2 = peer.open({ method: 'GET', url: '/api/stream', headers: s2.headers })
    const stream = peer.stream(o2)
    const reader = session.openStream(s2, stream.headers['x-nen-stream-nonce'])
    const tokens = ['0123456789abcdef', 'fedcba9876543210']
    const got = reader.push(tokens.map((t) => stream.chunk(t)).join('') + stream.finish())
    reader.finish()
    if (got.join('|') !== tokens.join('|')) throw new Error('peer stream did not open')
  }
}

// ---------------------------------------------------------------------------------------------
// The run

/** Which addon file this process loaded, and whether it carries debug info (an unoptimised build?). */
function loadedAddon() {
  const maps = readFileSync('/proc/self/maps', 'utf8')
  const file = maps.split('\n').map((l) => l.slice(l.indexOf('/'))).find((p) => /nen[-_]server[-_]native.*\.node$/.test(p))
  if (!file) return { file: 'unknown', debugInfo: false }
  return { file, debugInfo: elfSections(readFileSync(file)).includes('.debug_info') }
}

/** Section names of a 64-bit little-endian ELF file. */
function elfSections(elf) {
  const shoff = Number(elf.readBigUInt64LE(0x28))
  const shentsize = elf.readUInt16LE(0x3a)
  const shnum = elf.readUInt16LE(0x3c)
  const shstrndx = elf.readUInt16LE(0x3e)
  const strtab = Number(elf.readBigUInt64LE(shoff + shstrndx * shentsize + 0x18))
  const names = []
  for (let i = 0; i < shnum; i++) {
    const at = strtab + elf.readUInt32LE(shoff + i * shentsize)
    names.push(elf.toString('latin1', at, elf.indexOf(0, at)))
  }
  return names
}

async function main() {
  const addon = loadedAddon()
  const cpu = os.cpus()
  console.log(`Nen server benchmark${QUICK ? ' (--quick: smoke run, numbers meaningless)' : ''}`)
  console.log(`  ${cpu[0].model}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`)
  console.log(`  Node ${process.versions.node} (OpenSSL ${process.versions.openssl}), N-API ${process.versions.napi}`)
  console.log(`  addon: ${addon.file}`)
  if (addon.debugInfo) console.log('  WARNING: the addon carries debug info: likely a debug (unoptimised) build. Build with `npm run build` (napi build --release) for representative numbers.')
  console.log(`  ${ROUNDS} timed rounds, cases interleaved, after one warm-up round each; medians; ±: half the range over the median`)
  console.log('  JS thread: event-loop busy time per op (performance.eventLoopUtilization); tokio: CPU of its workers per op')
  const before = otherLoad()
  await new Promise((resolve) => setTimeout(resolve, 1000))
  console.log(`  other processes kept ${before().toFixed(2)} of ${os.availableParallelism()} cores busy in the second before the run`)
  checkPeerSpeaksNen()
  console.log('  peer check: the native client completed handshake, request, response and stream against the peer')
  const t0 = Date.now()
  const rows = []

  // a. Handshakes ------------------------------------------------------------------------------
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
    rows.push({ section: 'a', work: `handshake ${mode}`, nen: sync, peer, extra: { serial, par } })
  }

  // b. Per request -----------------------------------------------------------------------------
  console.log('\nb. Per request: open (verify MAC, window, replay, decrypt) + seal a same-size response')
  for (const [label, size, n] of SIZES) {
    const json = jsonOfSize(size)
    const iterations = scale(n)
    const server = new nen.NenServer()
    const session = clientSession((body) => server.handshakeSync(body).body)
    const peer = new PeerServer()
    const peerSession = clientSession((body) => peer.handshake(body).body)
    const [ours, theirs, floor] = await compare([
      bench(`${label}: openSync + seal`, (reqs, i) => {
        const opened = server.openSync(reqs[i])
        if (opened.body.length !== size) throw new Error('wrong body')
        server.seal(opened, json, 200)
      }, { iterations, setup: (k) => signRequests(session, k, 'POST', '/api/items/7', json) }),
      bench(`${label}: peer (node:crypto HMAC + ChaCha20-Poly1305 + Map)`, (reqs, i) => {
        const opened = peer.open(reqs[i])
        if (opened.body.length !== size) throw new Error('wrong body')
        peer.seal(opened, json, 200)
      }, { iterations, setup: (k) => signRequests(peerSession, k, 'POST', '/api/items/7', json) }),
      bench(`${label}: no crypto (JSON.parse + JSON.stringify)`, () => JSON.stringify(JSON.parse(json)), { iterations }),
    ])
    rows.push({ section: 'b', work: `request ${label}`, nen: ours, peer: theirs, extra: { floor } })
  }

  // c. The thread hop ----------------------------------------------------------------------------
  console.log('\nc. Thread hop: open() (tokio task) against openSync(), 1 KiB POST, open only')
  {
    const json = jsonOfSize(1024)
    const server = new nen.NenServer()
    const session = clientSession((body) => server.handshakeSync(body).body)
    const opts = { iterations: scale(5_000), setup: (k) => signRequests(session, k, 'POST', '/api/items/7', json) }
    const open = (reqs, i) => server.open(reqs[i]).then((o) => o.body)
    const [sync, serial, par] = await compare([
      bench('openSync()', (reqs, i) => server.openSync(reqs[i]).body, opts),
      bench('open() one at a time', open, { ...opts, concurrency: 1 }),
      bench(`open() ${IN_FLIGHT} in flight`, open, { ...opts, concurrency: IN_FLIGHT }),
    ])
    rows.push({ section: 'c', work: 'open 1 KiB', nen: sync, extra: { serial, par } })
  }

  // d. Streams ---------------------------------------------------------------------------------
  console.log('\nd. Stream: seal one 16-byte token into an SSE frame (no padding, the server default)')
  {
    const token = 'token-0123456789'
    const request = '{"prompt":"hi"}'
    const server = new nen.NenServer()
    const session = clientSession((body) => server.handshakeSync(body).body)
    const peer = new PeerServer()
    const peerSession = clientSession((body) => peer.handshake(body).body)
    const iterations = scale(50_000)
    const [ours, theirs] = await compare([
      bench('NenStream.chunk', (s) => s.chunk(token), {
        iterations,
        setup: () => server.stream(server.openSync(signRequests(session, 1, 'POST', '/api/chat', request)[0])),
      }),
      bench('peer (node:crypto ChaCha20-Poly1305 per chunk)', (s) => s.chunk(token), {
        iterations,
        setup: () => peer.stream(peer.open(signRequests(peerSession, 1, 'POST', '/api/chat', request)[0])),
      }),
    ])
    rows.push({ section: 'd', work: 'stream chunk 16 B', nen: ours, peer: theirs })
  }

  console.log(`\nTotal ${((Date.now() - t0) / 1000).toFixed(0)} s.`)
  console.log('Results (medians; peer ÷ Nen = peer time over Nen time, above 1 Nen is faster):\n')
  printTable(rows)
}

function printTable(rows) {
  const out = [
    '| work | Nen | µs/op | op/s | JS thread µs/op | tokio µs/op | peer µs/op | peer op/s | peer ÷ Nen | note |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ]
  const line = (work, what, r, peer, x, note = '') =>
    out.push(`| ${work} | ${what} | ${fmtUs(r.us)} | ${fmtRate(r.perSec)} | ${fmtUs(r.js)} | ${r.tokio > 0.05 ? fmtUs(r.tokio) : '–'} | ${peer ? fmtUs(peer.us) : '–'} | ${peer ? fmtRate(peer.perSec) : '–'} | ${x} | ${note} |`)
  for (const row of rows) {
    if (row.section === 'a') {
      line(row.work, '`handshakeSync`', row.nen, row.peer, ratio(row.peer, row.nen))
      line(row.work, '`handshake()` one at a time', row.extra.serial, row.peer, ratio(row.peer, row.extra.serial), 'the peer has no async path: against its sync figure')
      line(row.work, `\`handshake()\` ${IN_FLIGHT} in flight`, row.extra.par, row.peer, ratio(row.peer, row.extra.par), 'µs/op = wall time ÷ ops (throughput)')
    } else if (row.section === 'b') {
      line(row.work, '`openSync` + `seal`', row.nen, row.peer, ratio(row.peer, row.nen), `no-crypto floor (JSON.parse + stringify): ${fmtUs(row.extra.floor.us)} µs`)
    } else if (row.section === 'c') {
      line(row.work, '`openSync()`', row.nen, null, '–', 'baseline')
      for (const [what, r] of [['`open()` one at a time', row.extra.serial], [`\`open()\` ${IN_FLIGHT} in flight`, row.extra.par]]) {
        line(row.work, what, r, null, '–', `${ratio(r, row.nen)} openSync's time; JS thread ${times(r.js, row.nen.js)}, JS + tokio ${times(r.js + r.tokio, row.nen.js)} its CPU`)
      }
    } else {
      line(row.work, '`NenStream.chunk`', row.nen, row.peer, ratio(row.peer, row.nen))
    }
  }
  console.log(out.join('\n'))
}

await main()
