// The load generator, a child process of its own (its CPU is measured apart from the servers'):
// keep-alive connections on raw sockets, one request in flight on each, every request written
// from bytes prepared before the clock starts. Nen requests are really signed, one signature per
// request (replay protection refuses a second use), by the native client. After each round
// every response is checked (status, and for Nen the client opens it to the expected JSON) and a
// round with any wrong answer fails the run.
//
// Driven over IPC by http/run.mjs: {op: 'target' | 'prepare' | 'run' | 'live' | 'exit', ...}.

import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { nen } from '../lib/inputs.mjs'
import { percentileSorted } from '../lib/stats.mjs'
import { ResponseParser, requestBytes } from './wire.mjs'

const targets = new Map()
const HANDSHAKE_SAMPLE = 50 // handshake answers finished (ML-KEM decapsulation) per round

/** One request through fetch (not the raw path), for the checks before anything is timed. */
async function fetchOnce(port, method, path, headers, body) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: body ? { ...headers, 'content-type': 'application/json' } : headers, body: body ?? undefined })
  return { status: res.status, text: await res.text() }
}

function answerError(t, signed, status, text) {
  if (status !== 200) return `status ${status}: ${text.slice(0, 160)}`
  if (t.spec.kind === 'plain') return text === t.spec.expected ? null : 'answered other JSON'
  const a = t.session.openAnswer(signed, status, text)
  if (a.errorCode) return `sealed failure ${a.errorCode}`
  return a.body === t.spec.expected ? null : 'the sealed answer opened to other JSON'
}

/** Registers a target; a Nen target gets its session by a real handshake; one request is checked. */
async function addTarget(name, spec) {
  const t = { spec, session: null, prepared: null }
  const { port, method, path } = spec
  if (spec.kind === 'handshake') {
    const hs = nen.NenClientHandshake.start(spec.mode)
    const r = await fetchOnce(port, 'POST', path, {}, hs.body)
    if (r.status !== 200) throw new Error(`${name}: handshake answered ${r.status}: ${r.text.slice(0, 200)}`)
    hs.finish(r.text)
  } else {
    if (spec.kind === 'nen') {
      const hs = nen.NenClientHandshake.start(spec.mode ?? 'hybrid')
      const r = await fetchOnce(port, 'POST', spec.handshakePath, {}, hs.body)
      if (r.status !== 200) throw new Error(`${name}: handshake answered ${r.status}: ${r.text.slice(0, 200)}`)
      t.session = hs.finish(r.text)
    }
    const s = t.session?.sign(method, path, spec.body)
    const r = await fetchOnce(port, method, path, s ? s.headers : {}, s ? (s.body ?? undefined) : spec.body)
    const err = answerError(t, s, r.status, r.text)
    if (err) throw new Error(`${name}: ${method} ${path} check failed: ${err}`)
  }
  targets.set(name, t)
}

/** The i-th request of a target: bytes to send, and what is needed to check its answer. */
function makeRequest(t) {
  const { port, method, path, body, kind, mode } = t.spec
  if (kind === 'plain') return { bytes: t.plainBytes ?? (t.plainBytes = requestBytes(method, path, port, {}, body)) }
  if (kind === 'handshake') {
    const hs = nen.NenClientHandshake.start(mode)
    return { bytes: requestBytes('POST', path, port, {}, hs.body), hs }
  }
  const signed = t.session.sign(method, path, body)
  return { bytes: requestBytes(method, path, port, signed.headers, signed.body ?? undefined), signed }
}

function prepare(name, count) {
  const t = targets.get(name)
  t.prepared = Array.from({ length: count }, () => makeRequest(t))
}

/**
 * Sends requests on `connections` keep-alive sockets until `more(i)` is false; `take(i)` gives
 * the i-th request, `onAnswer(i, status, body)` gets its answer (`body` is only valid during the
 * call). Connections are open before the clock starts. Resolves to the elapsed µs, the
 * number of requests and their latencies (ms; `capacity` preallocates them).
 */
function load(port, connections, { take, more, onAnswer, capacity = 0 }) {
  return new Promise((resolve, reject) => {
    const lat = capacity > 0 ? new Float64Array(capacity) : []
    let sent = 0
    let done = 0
    let open = 0
    let t0 = 0
    let finished = false
    const sockets = []
    const fail = (e) => {
      if (finished) return
      finished = true
      for (const s of sockets) s.destroy()
      reject(e)
    }
    const sendNext = (conn) => {
      if (!more(sent)) {
        conn.socket.end()
        return false
      }
      conn.i = sent++
      conn.waiting = true
      conn.start = performance.now()
      conn.socket.write(take(conn.i).bytes)
      return true
    }
    for (let k = 0; k < connections; k++) {
      const socket = net.connect({ port, host: '127.0.0.1', noDelay: true })
      const conn = { socket, i: -1, start: 0, waiting: false }
      sockets.push(conn)
      const parser = new ResponseParser((status, body) => {
        lat[conn.i] = performance.now() - conn.start
        conn.waiting = false
        onAnswer(conn.i, status, body)
        done++
        if (!sendNext(conn) && done === sent && !finished) {
          finished = true
          const elapsedUs = (performance.now() - t0) * 1e3
          resolve({ elapsedUs, count: done, lat: capacity > 0 ? lat.subarray(0, done) : lat })
        }
      })
      socket.on('data', (d) => parser.feed(d))
      socket.on('error', fail)
      socket.on('close', () => {
        if (!finished && conn.waiting) fail(new Error(`the server closed a connection with request ${conn.i} unanswered`))
      })
      socket.on('connect', () => {
        if (++open < connections) return
        t0 = performance.now()
        for (const c of sockets) sendNext(c)
      })
    }
  })
}

function latencies(lat) {
  const sorted = Float64Array.from(lat).sort()
  return { p50: percentileSorted(sorted, 50) * 1e3, p99: percentileSorted(sorted, 99) * 1e3 }
}

/** Checks the kept answers of a round (a sample of handshakes); returns the first problem or null. */
function check(t, reqs, statuses, bodies) {
  const every = Math.max(1, Math.floor(reqs.length / HANDSHAKE_SAMPLE))
  for (let i = 0; i < reqs.length; i++) {
    const text = bodies[i].toString()
    if (t.spec.kind === 'handshake') {
      if (statuses[i] !== 200) return `handshake ${i}: status ${statuses[i]}: ${text.slice(0, 160)}`
      if (i % every === 0) reqs[i].hs.finish(text)
      continue
    }
    const err = answerError(t, reqs[i].signed, statuses[i], text)
    if (err) return `request ${i}: ${err}`
  }
  return null
}

async function runRound(name, connections) {
  const t = targets.get(name)
  const reqs = t.prepared
  t.prepared = null
  const n = reqs.length
  // Plain answers are compared in place; Nen answers are copied and opened after the clock stops.
  const expected = Buffer.from(t.spec.expected ?? '')
  let wrong = null
  const statuses = new Uint16Array(n)
  const bodies = new Array(n)
  const onAnswer =
    t.spec.kind === 'plain'
      ? (i, status, body) => {
          if (wrong === null && (status !== 200 || !body.equals(expected))) wrong = `request ${i}: status ${status}: ${body.toString().slice(0, 160)}`
        }
      : (i, status, body) => {
          statuses[i] = status
          bodies[i] = Buffer.from(body)
        }
  const cpu0 = process.cpuUsage()
  const r = await load(t.spec.port, connections, { take: (i) => reqs[i], more: (i) => i < n, onAnswer, capacity: n })
  const cpu = process.cpuUsage(cpu0)
  const problem = wrong ?? (t.spec.kind === 'plain' ? null : check(t, reqs, statuses, bodies))
  if (problem) throw new Error(`${name}: ${problem}`)
  return { count: r.count, elapsedUs: r.elapsedUs, genCpuUs: cpu.user + cpu.system, ...latencies(r.lat) }
}

/** Sustained load for `seconds`, each request signed as it is sent (for the RSS samples); statuses checked. */
async function runLive(name, connections, seconds) {
  const t = targets.get(name)
  const deadline = performance.now() + seconds * 1e3
  let wrong = null
  const onAnswer = (i, status, body) => {
    if (wrong === null && status !== 200) wrong = `request ${i}: status ${status}: ${body.toString().slice(0, 160)}`
  }
  const r = await load(t.spec.port, connections, { take: () => makeRequest(t), more: () => performance.now() < deadline, onAnswer })
  if (wrong) throw new Error(`${name}: ${wrong}`)
  return { count: r.count, elapsedUs: r.elapsedUs, ...latencies(r.lat) }
}

process.on('disconnect', () => process.exit(0))
process.on('message', async (m) => {
  try {
    let reply = {}
    if (m.op === 'target') await addTarget(m.name, m.spec)
    else if (m.op === 'prepare') prepare(m.name, m.count)
    else if (m.op === 'run') reply = await runRound(m.name, m.connections)
    else if (m.op === 'live') reply = await runLive(m.name, m.connections, m.seconds)
    else if (m.op === 'exit') process.exit(0)
    process.send({ id: m.id, ok: true, ...reply })
  } catch (e) {
    process.send({ id: m.id, ok: false, error: String(e?.stack ?? e) })
  }
})
