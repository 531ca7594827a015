// HTTP/1.1 on raw sockets for the load generator: requests serialised once into Buffers before
// the clock starts, responses parsed just enough to find where each ends (content-length or
// chunked) and what it said.

const CRLF2 = Buffer.from('\r\n\r\n')

/** One request as bytes: request line, host, the given headers, content-length, body. */
export function requestBytes(method, target, port, headers = {}, body) {
  const lines = [`${method} ${target} HTTP/1.1`, `host: 127.0.0.1:${port}`]
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
  const payload = body === undefined || body === null ? null : Buffer.from(body)
  if (payload) lines.push('content-type: application/json', `content-length: ${payload.length}`)
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
  return payload ? Buffer.concat([head, payload]) : head
}

/**
 * Incremental response parser of one keep-alive connection (no pipelining: one response at a
 * time). `feed(chunk)` calls `onResponse(status, body)` for each response completed.
 */
export class ResponseParser {
  constructor(onResponse) {
    this.onResponse = onResponse
    this.buf = null
  }

  feed(chunk) {
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk
    for (;;) {
      const buf = this.buf
      const end = buf.indexOf(CRLF2)
      if (end < 0) return
      const status = (buf[9] - 48) * 100 + (buf[10] - 48) * 10 + (buf[11] - 48)
      const start = end + 4
      let body
      let next
      const cl = headerValueAt(buf, end)
      if (cl >= 0) {
        let n = 0
        for (let i = cl; buf[i] >= 48 && buf[i] <= 57; i++) n = n * 10 + buf[i] - 48
        next = start + n
        if (buf.length < next) return
        body = buf.subarray(start, next)
      } else if (isChunked(buf, end)) {
        const r = dechunk(buf, start)
        if (!r) return
        ;[body, next] = r
      } else {
        body = buf.subarray(start, start) // no body (a 204/304, or none declared)
        next = start
      }
      this.buf = next < buf.length ? buf.subarray(next) : null
      this.onResponse(status, body)
      if (!this.buf) return
    }
  }
}

// Header names arrive in either case (node:http keeps the case they were set in).
const CONTENT_LENGTH = [Buffer.from('\r\ncontent-length:'), Buffer.from('\r\nContent-Length:')]
const CHUNKED = Buffer.from('chunked')

/** Where the content-length value starts (spaces skipped) within the head, or -1. */
function headerValueAt(buf, end) {
  for (const name of CONTENT_LENGTH) {
    const at = buf.indexOf(name)
    if (at >= 0 && at < end) {
      let i = at + name.length
      while (buf[i] === 32) i++
      return i
    }
  }
  return -1
}

function isChunked(buf, end) {
  const at = buf.indexOf(CHUNKED)
  return at >= 0 && at < end
}

/** A complete chunked body starting at `at`: [body, offset after it], or null if incomplete. */
function dechunk(buf, at) {
  const parts = []
  for (;;) {
    const eol = buf.indexOf('\r\n', at)
    if (eol < 0) return null
    const size = Number.parseInt(buf.toString('latin1', at, eol), 16)
    if (size === 0) {
      const end = buf.indexOf('\r\n', eol + 2)
      if (end < 0) return null
      return [Buffer.concat(parts), end + 2] // no trailers are sent here: the blank line
    }
    if (buf.length < eol + 2 + size + 2) return null
    parts.push(buf.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
}
