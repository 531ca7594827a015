// A real redis-server on a free loopback port (started and stopped through the addon suite's
// __test__/support/redis.js), and in front of it an HTTP endpoint speaking the Upstash REST
// protocol: POST a JSON command array with `Authorization: Bearer <token>`, get {"result": …}
// or {"error": "…"}. Commands go to Redis over a minimal RESP client.

import http from 'node:http'
import net from 'node:net'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const redis = require('../../../../__test__/support/redis.js')

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

export async function startRedis() {
  const port = await freePort()
  const { url } = redis.start(port)
  return { port, url, cli: (...args) => redis.cli(port, ...args), stop: () => redis.stop(port) }
}

function encode(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)]
  for (const a of args) {
    const b = Buffer.from(String(a))
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'))
  }
  return Buffer.concat(parts)
}

/** Parses one RESP2 reply at `i`: `{ value, error?, end }`, or null if it is not all here yet. */
function parse(buf, i) {
  const eol = buf.indexOf('\r\n', i)
  if (eol < 0) return null
  const line = buf.toString('utf8', i + 1, eol)
  const next = eol + 2
  switch (String.fromCharCode(buf[i])) {
    case '+':
      return { value: line, end: next }
    case '-':
      return { value: null, error: line, end: next }
    case ':':
      return { value: Number(line), end: next }
    case '$': {
      const n = Number(line)
      if (n < 0) return { value: null, end: next }
      if (buf.length < next + n + 2) return null
      return { value: buf.toString('utf8', next, next + n), end: next + n + 2 }
    }
    case '*': {
      const n = Number(line)
      if (n < 0) return { value: null, end: next }
      const value = []
      let at = next
      for (let k = 0; k < n; k++) {
        const r = parse(buf, at)
        if (!r) return null
        value.push(r.error ? { error: r.error } : r.value)
        at = r.end
      }
      return { value, end: at }
    }
  }
  throw new Error(`bad RESP type ${buf[i]}`)
}

/** One connection; replies come back in order, so a FIFO of callbacks matches them up. */
function respClient(port) {
  const socket = net.connect(port, '127.0.0.1')
  let buf = Buffer.alloc(0)
  const waiting = []
  socket.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d
    for (;;) {
      const r = parse(buf, 0)
      if (!r) break
      buf = buf.subarray(r.end)
      waiting.shift()(r)
    }
  })
  socket.on('error', (e) => {
    for (const w of waiting.splice(0)) w({ error: e.message })
  })
  return {
    send: (args) =>
      new Promise((resolve) => {
        waiting.push(resolve)
        socket.write(encode(args))
      }),
    close: () => socket.destroy(),
  }
}

/**
 * The Upstash REST endpoint over `redisPort`. `commands` records each command name, to check how
 * many round trips a request costs.
 */
export async function startUpstash(redisPort, token) {
  const resp = respClient(redisPort)
  const commands = []
  const server = http.createServer((req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (req.headers.authorization !== `Bearer ${token}`) return reply(401, { error: 'Unauthorized' })
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (d) => (text += d))
    req.on('end', async () => {
      let args
      try {
        args = JSON.parse(text)
        if (!Array.isArray(args) || args.length === 0) throw new Error('not a command')
      } catch {
        return reply(400, { error: 'ERR failed to parse command' })
      }
      commands.push(String(args[0]).toUpperCase())
      const r = await resp.send(args)
      return r.error ? reply(400, { error: r.error }) : reply(200, { result: r.value })
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    commands,
    close: async () => {
      resp.close()
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    },
  }
}
