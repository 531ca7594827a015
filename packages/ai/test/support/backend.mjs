// The app's backend for the tests, as a real server on loopback: node:http in front of Web
// route handlers (the Nen routes from @withnen/server and the secure AI routes), converted the
// way Next.js serves App Router route handlers (the request's signal aborts when the client goes
// away). In front of it, a TCP relay records every byte that crosses between client and backend
// and can cut a connection in the middle of a stream.

import http from 'node:http'
import net from 'node:net'

/** Serves `route(pathname)` → `(Request) => Promise<Response>` over node:http. */
export async function startBackend(route) {
  const server = http.createServer(async (req, res) => {
    const controller = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) controller.abort()
    })
    const chunks = []
    for await (const c of req) chunks.push(c)
    const url = new URL(req.url, `http://${req.headers.host}`)
    const handler = route(url.pathname)
    if (!handler) {
      res.writeHead(404)
      return res.end()
    }
    const headers = new Headers()
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v)
    const body = chunks.length ? Buffer.concat(chunks) : undefined
    const request = new Request(url, { method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body, signal: controller.signal })
    let response
    try {
      response = await handler(request)
    } catch (_e) {
      res.writeHead(500)
      return res.end()
    }
    const out = {}
    response.headers.forEach((v, k) => {
      out[k] = v
    })
    res.writeHead(response.status, out)
    if (!response.body) return res.end()
    const reader = response.body.getReader()
    res.on('close', () => reader.cancel().catch(() => {}))
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        res.write(value)
      }
      res.end()
    } catch {
      res.destroy()
    }
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: server.address().port,
    close: () => {
      server.closeAllConnections()
      return new Promise((r) => server.close(r))
    },
  }
}

/**
 * A TCP relay to `port` recording both directions. `cutAfterFrames(n)`: the next response
 * carrying SSE frames is cut (both sockets destroyed) once `n` frames have passed.
 */
export async function startWiretap(port) {
  const toServer = []
  const toClient = []
  const sockets = new Set()
  let cut = null // { frames, seen }
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1')
    sockets.add(client)
    sockets.add(upstream)
    const drop = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('data', (d) => {
      toServer.push(Buffer.from(d))
      upstream.write(d)
    })
    upstream.on('data', (d) => {
      if (cut) {
        const text = d.toString('latin1')
        let at = 0
        let sent = 0
        // Forward up to the end of the n-th frame, then cut.
        for (;;) {
          const i = text.indexOf('data: ', at)
          if (i < 0) break
          const end = text.indexOf('\n\n', i)
          if (end < 0) break
          cut.seen++
          at = end + 2
          if (cut.seen >= cut.frames) {
            sent = at
            break
          }
        }
        if (cut.seen >= cut.frames) {
          const part = d.subarray(0, sent)
          toClient.push(Buffer.from(part))
          cut = null
          client.write(part, () => drop())
          return
        }
      }
      toClient.push(Buffer.from(d))
      client.write(d)
    })
    client.on('error', drop)
    upstream.on('error', drop)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Everything the client sent, as text. */
    sent: () => Buffer.concat(toServer).toString('latin1'),
    /** Everything the client received, as text. */
    received: () => Buffer.concat(toClient).toString('latin1'),
    cutAfterFrames(n) {
      cut = { frames: n, seen: 0 }
    },
    close: () => {
      for (const s of sockets) s.destroy()
      return new Promise((r) => server.close(r))
    },
  }
}

/**
 * A fetch that records the bodies it sends and receives (the decoded HTTP bodies, beside the
 * relay's raw bytes), for the client's `fetch` option.
 */
export function recordingFetch() {
  const bodies = []
  const f = async (input, init = {}) => {
    if (typeof init.body === 'string') bodies.push(init.body)
    const res = await fetch(input, init)
    if (!res.body) return res
    // Tee the body: one branch is recorded as it streams, the other handed on.
    const [mine, theirs] = res.body.tee()
    ;(async () => {
      const reader = mine.getReader()
      const dec = new TextDecoder()
      let text = ''
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          text += dec.decode(value, { stream: true })
        }
      } catch {}
      bodies.push(text)
    })()
    return new Response(theirs, { status: res.status, statusText: res.statusText, headers: res.headers })
  }
  return { fetch: f, bodies }
}
