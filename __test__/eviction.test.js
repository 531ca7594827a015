'use strict'
// Redis under memory pressure, with each eviction policy: an unauthenticated handshake flood
// fills memory until Redis evicts (or, with noeviction, refuses writes). A session's replay
// records live in the session's own record, so whatever Redis evicts, a captured request
// replayed afterwards is refused (ISO-2002 if its session went, ISO-5001 if it stayed); it is
// never accepted. The addon also warns, once, about a policy that can evict sessions.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { spawnSync } = require('node:child_process')
const { join } = require('node:path')
const { nen, connect, sign } = require('./support/nen')
const redis = require('./support/redis')

const wrappingKey = crypto.randomBytes(32).toString('base64')
const POLICIES = ['volatile-ttl', 'volatile-lru', 'allkeys-lru', 'allkeys-random', 'noeviction']
const BASE_PORT = redis.port(16400)

const info = (port, field) => Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(redis.cli(port, 'info').stdout)?.[1] ?? NaN)

for (const [i, policy] of POLICIES.entries()) {
  test(`maxmemory-policy ${policy}: a handshake flood never lets a replay through`, async () => {
    const port = BASE_PORT + i
    redis.start(port)
    try {
      // 1 MiB above what the empty server uses: a few thousand sessions.
      redis.cli(port, 'config', 'set', 'maxmemory', String(info(port, 'used_memory') + (1 << 20)))
      redis.cli(port, 'config', 'set', 'maxmemory-policy', policy)
      const server = new nen.NenServer({ store: { kind: 'redis', url: `redis://127.0.0.1:${port}`, wrappingKey, timeoutMs: 2000 } })
      const victim = await connect(server)
      const captured = []
      for (let n = 0; n < 20; n++) {
        const { req } = sign(victim, 'POST', '/api/pay', { n })
        await server.open(req)
        captured.push(req)
      }
      let refused = 0
      let made = 0
      for (let round = 0; round < 400; round++) {
        const r = await Promise.allSettled(Array.from({ length: 32 }, () => server.handshake(nen.NenClientHandshake.start().body)))
        made += r.filter((x) => x.status === 'fulfilled').length
        for (const x of r) if (x.status === 'rejected') assert.equal(x.reason.code, 'ISO-8001', String(x.reason))
        refused += r.filter((x) => x.status === 'rejected').length
        if (policy === 'noeviction' ? refused > 0 : info(port, 'evicted_keys') > 50) break
      }
      if (policy === 'noeviction') assert.ok(refused > 0, 'a full Redis refuses new sessions (ISO-8001)')
      else assert.ok(info(port, 'evicted_keys') > 50, `Redis evicted (${info(port, 'evicted_keys')} keys after ${made} handshakes)`)
      let accepted = 0
      const codes = new Set()
      for (const req of captured) {
        try {
          await server.open(req)
          accepted++
        } catch (e) {
          codes.add(e.code)
        }
      }
      assert.equal(accepted, 0, 'a replay was accepted')
      for (const c of codes) assert.ok(c === 'ISO-2002' || c === 'ISO-5001', c)
    } finally {
      redis.stop(port)
    }
  })
}

test('the addon warns once about a policy that can evict sessions, and not about noeviction', () => {
  const port = BASE_PORT + POLICIES.length
  redis.start(port)
  try {
    const run = (policy) => {
      redis.cli(port, 'config', 'set', 'maxmemory-policy', policy)
      const script = `
        const nen = require(${JSON.stringify(join(__dirname, '..'))})
        const s = new nen.NenServer({ store: { kind: 'redis', url: 'redis://127.0.0.1:${port}', wrappingKey: '${wrappingKey}' } })
        const hs = nen.NenClientHandshake.start()
        // Ends by itself, not by process.exit: node then tears down and runs the addon's
        // finalizers, so scripts/sanitize.sh's leak check can judge this process too.
        s.handshake(hs.body).then(() => s.handshake(nen.NenClientHandshake.start().body))`
      return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 }).stderr
    }
    const lru = run('allkeys-lru')
    assert.equal(lru.match(/maxmemory-policy is allkeys-lru/g)?.length, 1, lru)
    assert.match(lru, /noeviction/)
    assert.ok(!/[A-Za-z0-9+/]{40,}/.test(lru), 'no key material in the warning')
    assert.equal(run('noeviction').trim(), '')
  } finally {
    redis.stop(port)
  }
})
