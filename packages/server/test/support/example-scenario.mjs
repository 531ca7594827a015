// What every README example serves (POST /api/items, GET /api/items/:id, the /api/chat stream and
// the four Nen routes), driven by the real client: run by Node (test/frameworks.test.mjs) and,
// under Deno and Bun, by test/support/runtime-driver.mjs. Only `@withnen/client` is imported, by
// its package name, so that each runtime resolves it its own way.

import { NenClient, NenError, createNenStream } from '@withnen/client'

/** What `exampleScenario` returns against a correct server. */
export const EXPECTED = {
  created: { saved: 'widget' },
  got: { id: '7', q: 'a b' },
  streamed: ['Hello', ', ', 'widget'],
  status: 'same session',
  rotated: 'new session',
  tampered: { code: 'ISO-3002', status: 401, authenticated: false },
  terminated: 'no session',
  after: { id: '8', q: null },
}

/**
 * The scenario against `baseUrl`. One request is re-targeted on its way (GET /api/items/7 is
 * delivered as /api/items/8, as a hop would), which the server must refuse.
 */
export async function exampleScenario(baseUrl) {
  let retarget = false
  const hop = (url, init) => {
    const u = String(url)
    if (retarget && u.includes('/api/items/7')) {
      retarget = false
      return fetch(u.replace('/api/items/7', '/api/items/8'), init)
    }
    return fetch(u, init)
  }
  const client = new NenClient(baseUrl, { fetch: hop })
  const out = {}
  out.created = await (await client.nenFetch('/api/items', { method: 'POST', body: { name: 'widget' } })).json()
  out.got = await (await client.nenFetch('/api/items/7?q=a%20b')).json()
  out.streamed = []
  for await (const word of createNenStream(client)('/api/chat', { body: { name: 'widget' } })) out.streamed.push(word)
  const first = client.sessionId
  out.status = (await client.status()).sid === first ? 'same session' : 'another session'
  await client.rotate()
  out.rotated = client.sessionId !== first && (await client.status()).sid === client.sessionId ? 'new session' : 'not rotated'
  retarget = true
  try {
    const res = await client.nenFetch('/api/items/7?q=x')
    out.tampered = { accepted: res.status }
  } catch (e) {
    out.tampered = e instanceof NenError ? { code: e.code, status: e.status, authenticated: e.authenticated } : { error: String(e) }
  }
  await client.terminate()
  out.terminated = client.sessionId === null ? 'no session' : 'still a session'
  out.after = await (await client.nenFetch('/api/items/8')).json()
  return out
}
