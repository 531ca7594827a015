'use strict'
// A TCP proxy on loopback, between the addon and a Redis of this suite, that a test can make
// misbehave like a network: stall (connections accepted, nothing forwarded either way, bytes
// held as a congested link holds them), drop (every connection closed, new ones closed on
// accept), blackhole the connections it has while forwarding new ones (a half-open connection
// after a failover), and forward again.

const fs = require('node:fs')
const net = require('node:net')

class Proxy {
  constructor(port, target) {
    this.port = port
    this.target = target
    this.mode = 'forward'
    this.pairs = new Set()
    this.accepted = 0
  }

  listen() {
    this.server = net.createServer((client) => this.#accept(client))
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.port, '127.0.0.1', resolve)
    })
  }

  #accept(client) {
    this.accepted++
    client.on('error', () => {})
    if (this.mode === 'drop') {
      client.destroy()
      return
    }
    const upstream = net.connect(this.target, '127.0.0.1')
    upstream.on('error', () => {})
    const pair = { client, upstream, held: false }
    this.pairs.add(pair)
    const close = () => {
      this.pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('close', close)
    upstream.on('close', close)
    const flow = (from, to) => {
      from.on('data', (d) => {
        if (!to.write(d)) from.pause()
      })
      to.on('drain', () => {
        if (!pair.held) from.resume()
      })
    }
    flow(client, upstream)
    flow(upstream, client)
    if (this.mode === 'stall') this.#hold(pair)
  }

  #hold(pair) {
    pair.held = true
    pair.client.pause()
    pair.upstream.pause()
  }

  #release(pair) {
    pair.held = false
    pair.client.resume()
    pair.upstream.resume()
  }

  /** Nothing forwarded on any connection, old or new; connections are still accepted. */
  stall() {
    this.mode = 'stall'
    for (const p of this.pairs) this.#hold(p)
  }

  /** Every connection closed; new ones closed as soon as they are accepted. */
  drop() {
    this.mode = 'drop'
    for (const p of this.pairs) {
      p.client.destroy()
      p.upstream.destroy()
    }
    this.pairs.clear()
  }

  /**
   * New connections forwarded. Held ones resume (what they held is delivered late, in order), or
   * with `{ resume: false }` stay held for good: a blackholed connection that never closes.
   */
  forward({ resume = true } = {}) {
    this.mode = 'forward'
    if (resume) for (const p of this.pairs) this.#release(p)
  }

  /** Connections open now, as the proxy sees them (a held one cannot see its client leave). */
  get open() {
    return this.pairs.size
  }

  /**
   * Connections to the proxy that their clients still hold open (ESTABLISHED on the client's
   * side, from /proc/net/tcp; Linux only, null elsewhere).
   */
  clientsEstablished() {
    let table
    try {
      table = fs.readFileSync('/proc/net/tcp', 'utf8')
    } catch {
      return null
    }
    const port = this.port.toString(16).toUpperCase().padStart(4, '0')
    return table
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length > 3 && f[2].endsWith(`:${port}`) && f[3] === '01').length
  }

  close() {
    for (const p of this.pairs) {
      p.client.destroy()
      p.upstream.destroy()
    }
    this.pairs.clear()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

module.exports = { Proxy }
