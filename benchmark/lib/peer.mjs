// The peer: the Nen protocol written the way a Node user would write it (docs/PROTOCOL.md §4-§7),
// with @noble/post-quantum ML-KEM-768, @noble/curves X25519 and node:crypto (HMAC, HKDF, SHA-3),
// and the AEAD either from node:crypto or from @noble/ciphers. It is favoured where it cuts a
// corner: targets are not checked to be §5.1's shape, bodies are not checked to be JSON, and its
// replay Map is never pruned. `checkPeerSpeaksNen` proves it interoperates before any timing.

import crypto from 'node:crypto'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { x25519 } from '@noble/curves/ed25519.js'
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js'
import { clientSession, jsonOfSize } from './inputs.mjs'

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

/** ChaCha20-Poly1305 returning/taking ct ‖ tag, from node:crypto or @noble/ciphers. */
export const AEADS = {
  node: {
    seal(key, nonce, ad, plain) {
      const c = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
      c.setAAD(ad, { plaintextLength: plain.length })
      return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()])
    },
    open(key, nonce, ad, sealed) {
      const ct = sealed.subarray(0, sealed.length - 16)
      const d = crypto.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
      d.setAAD(ad, { plaintextLength: ct.length })
      d.setAuthTag(sealed.subarray(sealed.length - 16))
      return Buffer.concat([d.update(ct), d.final()])
    },
  },
  noble: {
    seal: (key, nonce, ad, plain) => Buffer.from(chacha20poly1305(key, nonce, ad).encrypt(plain)),
    open: (key, nonce, ad, sealed) => Buffer.from(chacha20poly1305(key, nonce, ad).decrypt(sealed)),
  },
}

export class PeerServer {
  sessions = new Map()
  nonces = new Map()

  constructor(aead = 'node') {
    this.aead = AEADS[aead]
  }

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
    const confirm = crypto
      .createHmac('sha256', hkdf(ss, transcript, 'nen/1 key confirm'))
      .update('nen/1 confirm')
      .update(transcript)
      .digest()
    this.sessions.set(session.sid, session)
    const res = { v: 1, mode: req.mode, sid: session.sid, ct: Buffer.from(ct).toString('base64') }
    if (mode === MODES.hybrid) res.x25519 = Buffer.from(xs).toString('base64')
    res.exp = exp
    res.confirm = confirm.toString('base64')
    return { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(res) }
  }

  /** §5.2-§5.4: headers, session, MAC (constant time), window, decrypt, replay. */
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
    const head = `nen/1 request\n${req.method}\n${req.url}\n${sid}\n${tsText}\n${nonceB64}\n${h['x-nen-idempotency-key'] ?? ''}\n`
    let sealed = null
    let descriptor = '-'
    if (req.body) {
      sealed = Buffer.from(JSON.parse(req.body).ct, 'base64')
      if (sealed.length < 16) throw new Error('ISO-6002')
      descriptor = `ct ${sealed.length - 16} ${sealed.subarray(sealed.length - 16).toString('base64')}`
    }
    const mac = crypto.createHmac('sha256', session.kMac).update(head).update(descriptor).digest()
    const given = Buffer.from(sig, 'base64')
    if (given.length !== 32 || !crypto.timingSafeEqual(mac, given)) throw new Error('ISO-3002')
    const ts = Number(tsText)
    if (Math.abs(ts - now) > WINDOW_MS) throw new Error('ISO-3003')
    const nonce = Buffer.from(nonceB64, 'base64')
    const body = sealed ? this.aead.open(session.kC2s, nonce, Buffer.from(head, 'latin1'), sealed).toString('utf8') : null
    const key = `${sid}:${nonceB64}`
    if (this.nonces.has(key)) throw new Error('ISO-5001')
    this.nonces.set(key, ts + WINDOW_MS)
    return { session, nonce, nonceB64, body }
  }

  /** §6.1: a fresh nonce, associated data binding the request nonce, the status and the kind. */
  seal(opened, json, status = 200) {
    const n = crypto.randomBytes(12)
    const ad = Buffer.from(`nen/1 response\n${opened.session.sid}\n${opened.nonceB64}\n${status}\nbody`, 'latin1')
    const sealed = this.aead.seal(opened.session.kS2c, n, ad, Buffer.from(json, 'utf8'))
    return `{"ct":"${sealed.toString('base64')}","n":"${n.toString('base64')}"}`
  }

  /** §7: a stream key per response; chunk i under base XOR i. No padding (the server default). */
  stream(opened) {
    const base = crypto.randomBytes(12)
    const info = Buffer.concat([ascii('nen/1 stream'), opened.session.sidBytes, opened.nonce, base])
    const key = hkdfExpand32(opened.session.kStream, info)
    const aead = this.aead
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
      const sealed = aead.seal(key, nonce, ad, plain)
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

/** The native client runs the whole protocol against each peer; throws if a peer is wrong. */
export function checkPeerSpeaksNen() {
  for (const aead of Object.keys(AEADS)) {
    for (const mode of ['hybrid', 'mlkem768']) {
      const peer = new PeerServer(aead)
      const session = clientSession((body) => peer.handshake(body).body, mode)
      const json = jsonOfSize(1024)
      const signed = session.sign('POST', '/api/items/7', json)
      const opened = peer.open({ method: 'POST', url: '/api/items/7', headers: signed.headers, body: signed.body })
      if (opened.body !== json) throw new Error(`peer (${aead}) decrypted a different body`)
      if (session.openAnswer(signed, 201, peer.seal(opened, json, 201)).body !== json) throw new Error(`peer (${aead}) response did not open`)
      const s2 = session.sign('GET', '/api/stream')
      const stream = peer.stream(peer.open({ method: 'GET', url: '/api/stream', headers: s2.headers }))
      const reader = session.openStream(s2, stream.headers['x-nen-stream-nonce'])
      const tokens = ['0123456789abcdef', 'fedcba9876543210']
      const got = reader.push(tokens.map((t) => stream.chunk(t)).join('') + stream.finish())
      reader.finish()
      if (got.join('|') !== tokens.join('|')) throw new Error(`peer (${aead}) stream did not open`)
    }
  }
}
