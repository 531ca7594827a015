// An on-path hop holding no key, for the route-confusion suite: it sits in the client's fetch,
// sees every signed request (method, target, headers, body) and can deliver it unchanged, deliver
// a rewritten copy (another target, another method, other headers), re-send it later, or answer
// the client itself. What the server answered the hop is kept raw (status, headers, text).

import http from 'node:http'
import net from 'node:net'

/** A fetch init's headers as a plain object with lower-case names. */
function headersOf(h) {
  return Object.fromEntries(new Headers(h ?? {}))
}

/**
 * One request with `target` and the headers written as given (node:http does not normalise the
 * path: dot segments, `//`, `%xx`, `;`, `\` and absolute-form go out byte for byte). node:http
 * upper-cases the method; use `sendRaw` for any other spelling.
 */
export function send(baseUrl, { method, target, headers = {}, body }) {
  const { hostname, port } = new URL(baseUrl)
  return new Promise((resolve, reject) => {
    const h = { ...headers }
    if (body !== undefined) h['content-length'] = String(Buffer.byteLength(body))
    else delete h['content-length']
    const req = http.request({ host: hostname, port, method, path: target, headers: h, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** The same over a bare socket: the request line is `${method} ${target} HTTP/1.1`, as is. */
export function sendRaw(baseUrl, { method, target, headers = {}, body }) {
  const { hostname, port } = new URL(baseUrl)
  const lines = [`${method} ${target} HTTP/1.1`, `host: ${hostname}:${port}`, 'connection: close']
  for (const [k, v] of Object.entries(headers)) if (!['host', 'connection', 'content-length'].includes(k)) lines.push(`${k}: ${v}`)
  lines.push(`content-length: ${body === undefined ? 0 : Buffer.byteLength(body)}`)
  return new Promise((resolve, reject) => {
    const chunks = []
    const sock = net.connect(Number(port), hostname, () => sock.end(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`))
    sock.on('data', (c) => chunks.push(c))
    sock.on('error', reject)
    sock.on('close', () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks)))
      } catch (e) {
        reject(e)
      }
    })
  })
}

/** A complete HTTP/1.1 response (content-length, chunked, or up to close). */
export function parseResponse(buf) {
  const end = buf.indexOf('\r\n\r\n')
  if (end < 0) throw new Error(`not an HTTP response: ${JSON.stringify(buf.toString('latin1'))}`)
  const [statusLine, ...rows] = buf.subarray(0, end).toString('latin1').split('\r\n')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1])
  const headers = {}
  for (const row of rows) {
    const i = row.indexOf(':')
    headers[row.slice(0, i).trim().toLowerCase()] = row.slice(i + 1).trim()
  }
  let rest = buf.subarray(end + 4)
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const out = []
    for (;;) {
      const eol = rest.indexOf('\r\n')
      const size = parseInt(rest.subarray(0, eol).toString('latin1'), 16)
      if (!size) break
      out.push(rest.subarray(eol + 2, eol + 2 + size))
      rest = rest.subarray(eol + 2 + size + 2)
    }
    rest = Buffer.concat(out)
  } else if (headers['content-length'] !== undefined) rest = rest.subarray(0, Number(headers['content-length']))
  return { status, headers, text: rest.toString('utf8') }
}

/** The ISO code of a plain error reply: its JSON body's, or (HEAD) `x-nen-error`. */
export function codeOf(reply) {
  try {
    const code = JSON.parse(reply.text)?.error?.code
    if (typeof code === 'string') return code
  } catch {}
  return reply.headers['x-nen-error'] ?? null
}

/** A raw reply as the Response the client's fetch would have produced. */
function toResponse(reply, method) {
  const headers = new Headers()
  for (const [k, v] of Object.entries(reply.headers)) {
    if (['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(k)) continue
    for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one)
  }
  const empty = method === 'HEAD' || [101, 204, 205, 304].includes(reply.status) || reply.text === ''
  return new Response(empty ? null : reply.text, { status: reply.status, headers })
}

/**
 * The hop. `hop.fetch` goes to `new NenClient(baseUrl, { fetch: hop.fetch })`. Handshakes are
 * always delivered unchanged (and counted); every other request is handed to the next rule
 * queued with `hop.once(rule)`, or delivered unchanged when none is queued.
 * `rule(req, deliver)` returns the reply the client gets: `deliver(req)` (or a rewritten copy:
 * `{ ...req, target }`), or one it makes up itself (`{ status, headers, text }`).
 */
export function createHop(baseUrl) {
  const rules = []
  const hop = {
    /** Every request the client handed to fetch, as signed. */
    seen: [],
    /** Every exchange with the server: `{ request, reply }`. */
    exchanges: [],
    handshakes: 0,
    once(rule) {
      rules.push(rule)
    },
    /** The signed request the client sent last (not a handshake). */
    get last() {
      return hop.seen.findLast((r) => !r.target.endsWith('/handshake'))
    },
    /** What the server answered the hop last. */
    get lastReply() {
      return hop.exchanges.at(-1)?.reply
    },
    async deliver(req, { raw = false } = {}) {
      const reply = await (raw ? sendRaw : send)(baseUrl, req)
      hop.exchanges.push({ request: req, reply })
      return reply
    },
    async fetch(url, init = {}) {
      const s = String(url)
      const req = { method: init.method ?? 'GET', target: s.slice(new URL(s).origin.length), headers: headersOf(init.headers), body: init.body === undefined ? undefined : String(init.body) }
      hop.seen.push(req)
      let reply
      if (req.target.endsWith('/handshake')) {
        hop.handshakes++
        reply = await hop.deliver(req)
      } else {
        const rule = rules.shift()
        reply = rule ? await rule(req, (r, o) => hop.deliver(r, o)) : await hop.deliver(req)
      }
      return toResponse(reply, req.method)
    },
  }
  return hop
}
