// node:http → Web Request → handler → Web Response → node:http, the way a small custom server
// (or @hono/node-server) runs Fetch-API handlers on Node. The same adapter carries the plain and
// the Nen handlers, so the difference between them is Nen's alone.

const NO_BODY = new Set(['GET', 'HEAD'])

function readAll(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => resolve(chunks.length === 0 ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** A node:http listener running `handler(Request) → Response`. */
export function nodeListener(handler) {
  return async (req, res) => {
    try {
      const headers = new Headers()
      const raw = req.rawHeaders
      for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1])
      const body = NO_BODY.has(req.method) ? null : await readAll(req)
      const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url}`, { method: req.method, headers, body })
      const response = await handler(request)
      const out = {}
      for (const [k, v] of response.headers) out[k] = v
      if (!response.body) {
        res.writeHead(response.status, out).end()
      } else if ((out['content-type'] ?? '').startsWith('text/event-stream')) {
        res.writeHead(response.status, out)
        for await (const chunk of response.body) res.write(chunk)
        res.end()
      } else {
        res.writeHead(response.status, out).end(Buffer.from(await response.arrayBuffer()))
      }
    } catch (e) {
      if (!res.headersSent) res.writeHead(500).end(String(e))
      else res.destroy()
    }
  }
}
