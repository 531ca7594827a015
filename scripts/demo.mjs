// The demo: a real Nen server (node:http + @withnen/server, in-memory store, no setup) and the
// real client (@withnen/client, WebAssembly core) talking over loopback HTTP. It prints what
// crossed the wire beside the plaintext the handler saw.

import http from 'node:http'
import { nenResponse } from '../packages/server/dist/index.mjs'
import { nenNodeHandler, nenNodeRoutes, withNenStreamNode } from '../packages/server/dist/node.mjs'
import { NenClient } from '../packages/client/dist/index.mjs'

const dim = (s) => `\x1b[2m${s}\x1b[0m`
const short = (s) => (s.length > 110 ? `${s.slice(0, 100)}… (${s.length} bytes)` : s)
const items = new Map()

const routes = nenNodeRoutes()
const itemsHandler = nenNodeHandler(async (body, { req }) => {
  if (req.method === 'POST') {
    console.log(`  handler saw (plaintext): ${JSON.stringify(body)}`)
    const item = { id: String(items.size + 1), ...body }
    items.set(item.id, item)
    return nenResponse(item, { status: 201 })
  }
  const id = new URL(req.url, 'http://x').pathname.split('/').pop()
  console.log(`  handler saw: GET item ${id}`)
  return items.get(id) ?? nenResponse({ error: 'not found' }, { status: 404 })
})
const chat = withNenStreamNode(async function* (body) {
  console.log(`  handler saw (plaintext): ${JSON.stringify(body)}`)
  for (const token of ['Post-', 'quantum ', 'hello, ', 'world.']) yield token
})

const server = http.createServer((req, res) => {
  if (routes(req, res)) return
  if (req.url.startsWith('/api/items')) return itemsHandler(req, res)
  if (req.url === '/api/chat') return chat(req, res)
  res.writeHead(404).end()
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const base = `http://127.0.0.1:${server.address().port}`

// A fetch that shows what crosses the wire, both ways.
const wireFetch = async (url, init = {}) => {
  const path = new URL(url).pathname
  console.log(dim(`  → ${init.method ?? 'GET'} ${path} ${init.body ? short(String(init.body)) : ''}`))
  const res = await fetch(url, init)
  const text = await res.clone().text()
  console.log(dim(`  ← ${res.status} ${short(text.replace(/\n+/g, ' '))}`))
  return res
}

const client = new NenClient(base, { fetch: wireFetch })
console.log(`Nen demo server on ${base}\n\n== handshake (X25519 + ML-KEM-768) ==`)
await client.handshake()
console.log(`  session ${client.sessionId}, key confirmation checked\n\n== encrypted POST ==`)
const created = await client.nenFetch('/api/items', { method: 'POST', body: { card: '4111 1111 1111 1111', amount: 4200 } })
const item = await created.json()
console.log(`  client read: ${created.status} ${JSON.stringify(item)}\n\n== encrypted GET ==`)
const got = await client.nenFetch(`/api/items/${item.id}`)
console.log(`  client read: ${got.status} ${JSON.stringify(await got.json())}\n\n== encrypted stream ==`)
let text = ''
for await (const token of client.nenStream('/api/chat', { body: { prompt: 'say hello' } })) text += token
console.log(`  client read: ${JSON.stringify(text)}\n`)
await client.terminate()
server.close()
