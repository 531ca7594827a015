// The soak's load: `vus` virtual users, each a closed loop of session lives through the real
// @withnen/client over HTTP (undici fetch, keep-alive), so the rate is the highest this machine
// sustains with that many in flight: a user sends its next request only once the last one was
// answered and checked. One life: a handshake (hybrid, or ML-KEM-768 alone every fourth life),
// POSTs and GETs of varied sizes, encrypted streams, a captured request replayed (it must be
// refused with ISO-5001), a rotation and a status check; then the session is terminated, or
// every other life abandoned to expire on the server (sessionTtlMs).
//
// Every answer is checked: the client verifies and opens it, and its JSON or stream tokens must
// be exactly what was sent. Any other outcome is a failure, counted and described.
// Driven over IPC by soak/main.mjs: {op: 'counts' | 'stop'}; config JSON in argv[2]: {base, vus}.

import { isDeepStrictEqual } from 'node:util'
import { NenClient } from '../packages/client/dist/index.mjs'
import { streamTokens } from './stream-tokens.mjs'

const { base, vus } = JSON.parse(process.argv[2])

/** Expected refusals: only the replay sent on purpose. */
const EXPECTED = new Set(['ISO-5001'])
const REQUESTS_PER_LIFE = 16

const counts = {
  handshakes: 0,
  posts: 0,
  gets: 0,
  streams: 0,
  streamChunks: 0,
  rotations: 0,
  statuses: 0,
  terminates: 0,
  abandoned: 0,
  replaysRefused: 0,
  failures: 0,
  latencySumMs: 0,
  latencyCount: 0,
  latencyMaxMs: 0,
}
const problems = []
let stopping = false

function fail(what) {
  counts.failures++
  if (problems.length < 20) problems.push(String(what).slice(0, 300))
}

/** A fetch that counts the Nen routes' answers and flags any refusal the soak did not ask for. */
function watchedFetch(user) {
  return async (url, init = {}) => {
    const res = await fetch(url, init)
    const code = res.headers.get('x-nen-error')
    if (code && !(user.expecting && EXPECTED.has(code))) fail(`${init.method ?? 'GET'} ${new URL(url).pathname}: unexpected ${res.status} ${code}`)
    if (res.status === 200) {
      const path = new URL(url).pathname
      if (path === '/api/nen/handshake') counts.handshakes++
    }
    if (init.method === 'POST' && String(url).endsWith('/api/echo')) user.lastPost = { url: String(url), init }
    return res
  }
}

const timed = async (f) => {
  const t0 = performance.now()
  const r = await f()
  const ms = performance.now() - t0
  counts.latencySumMs += ms
  counts.latencyCount++
  if (ms > counts.latencyMaxMs) counts.latencyMaxMs = ms
  return r
}

let seq = 0

async function post(client, size) {
  const body = { n: ++seq, pad: 'x'.repeat(size) }
  const res = await timed(() => client.nenFetch('/api/echo', { method: 'POST', body }))
  const got = await res.json()
  if (res.status !== 200 || !isDeepStrictEqual(got, { echo: body })) throw new Error(`POST answered ${res.status} with other JSON`)
  counts.posts++
}

async function get(client) {
  const q = String(++seq)
  const res = await timed(() => client.nenFetch(`/api/echo?q=${q}`))
  const got = await res.json()
  if (res.status !== 200 || !isDeepStrictEqual(got, { q })) throw new Error(`GET answered ${res.status} with other JSON`)
  counts.gets++
}

async function stream(client) {
  const seed = ++seq
  const n = 4 + (seed % 12)
  const out = []
  await timed(async () => {
    for await (const chunk of client.nenStream('/api/stream', { body: { n, seed } })) out.push(chunk)
  })
  if (!isDeepStrictEqual(out, streamTokens(n, seed))) throw new Error(`stream ${seed} delivered other tokens`)
  counts.streams++
  counts.streamChunks += n
}

/** The last POST sent again, unchanged: the server must refuse it as a replay. */
async function replay(user) {
  const { url, init } = user.lastPost
  user.expecting = true
  try {
    const res = await fetch(url, init)
    const code = res.headers.get('x-nen-error')
    await res.arrayBuffer()
    if (res.status !== 401 || code !== 'ISO-5001') throw new Error(`a replayed POST answered ${res.status} ${code}`)
    counts.replaysRefused++
  } finally {
    user.expecting = false
  }
}

async function life(user, n) {
  const keyExchange = n % 4 === 3 ? 'mlkem768' : 'hybrid'
  const client = new NenClient(base, { fetch: watchedFetch(user), keyExchange })
  for (let i = 0; i < REQUESTS_PER_LIFE && !stopping; i++) {
    if (i === REQUESTS_PER_LIFE / 2) {
      const before = client.sessionId
      await client.rotate()
      if (!client.sessionId || client.sessionId === before) throw new Error('rotation kept the session id')
      counts.rotations++
      const st = await client.status()
      if (st.sid !== client.sessionId || st.mode !== keyExchange) throw new Error(`status answered ${JSON.stringify(st)}`)
      counts.statuses++
    }
    switch (i % 4) {
      case 0:
        await post(client, [16, 256, 1024, 4096][(n + i) % 4])
        break
      case 1:
        await get(client)
        break
      case 2:
        await post(client, 64)
        if (i === 2) await replay(user)
        break
      case 3:
        await stream(client)
        break
    }
  }
  if (n % 2 === 0) {
    await client.terminate()
    if (client.sessionId !== null) throw new Error('terminate kept a session')
    counts.terminates++
  } else counts.abandoned++
}

async function user() {
  const u = { lastPost: null, expecting: false }
  for (let n = 0; !stopping; n++) {
    try {
      await life(u, n)
    } catch (e) {
      fail(e?.code ? `${e.code} ${e.message}` : (e?.stack ?? e))
    }
  }
}

const users = Array.from({ length: vus }, () => user())

process.on('message', async (m) => {
  if (m.op === 'counts') process.send({ id: m.id, counts: { ...counts }, problems })
  if (m.op === 'stop') {
    stopping = true
    await Promise.all(users)
    process.send({ id: m.id, counts: { ...counts }, problems })
  }
})
process.send({ ready: true })
