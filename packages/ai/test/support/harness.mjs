// One test world: the local provider stand-ins, the backend (Nen routes + secure AI routes built
// with the real @withnen/server and the official SDKs), the wiretap in front of it, and
// browser-side clients (the real @withnen/client) pointed at the wiretap.

import { createNen, createNenRoute } from '@withnen/server'
import { withSecureAI, openAIProvider, anthropicProvider } from '@withnen/ai/server'
import { createSecureOpenAI, createSecureAnthropic } from '@withnen/ai'
import { startUpstream } from './upstream.mjs'
import { startBackend, startWiretap, recordingFetch } from './backend.mjs'

/**
 * @param {object} [o]
 * @param {object} [o.openai] extra openAIProvider options
 * @param {object} [o.anthropic] extra anthropicProvider options
 * @param {object} [o.route] extra withSecureAI options
 * @param {Record<string, {type: string, body: string}>} [o.files] static files (a page for the browser test)
 */
export async function startWorld(o = {}) {
  const upstream = await startUpstream()
  const errors = [] // what onError was told
  let routes
  // A Nen configuration and the routes on it; called again, every session is forgotten (as
  // when a server with the memory store restarts).
  const build = () => {
    const nen = createNen({})
    const nenRoutes = createNenRoute({ nen })
    const routeOptions = { nen, onError: (info) => errors.push(info), ...o.route }
    routes = {
      nen: (req) => nenRoutes[req.method === 'GET' ? 'GET' : 'POST'](req),
      openai: withSecureAI(openAIProvider({ apiKey: 'sk-test-openai', baseURL: `${upstream.url}/v1`, maxRetries: 0, ...o.openai }), routeOptions),
      anthropic: withSecureAI(anthropicProvider({ apiKey: 'sk-test-anthropic', baseURL: upstream.url, maxRetries: 0, ...o.anthropic }), routeOptions),
    }
  }
  build()
  const backend = await startBackend((path) => {
    if (path.startsWith('/api/nen/')) return routes.nen
    if (path === '/api/ai/openai') return routes.openai
    if (path === '/api/ai/anthropic') return routes.anthropic
    const file = o.files?.[path]
    if (file) return async () => new Response(file.body, { headers: { 'content-type': file.type, 'cache-control': 'no-store' } })
    return null
  })
  const tap = await startWiretap(backend.port)
  const recorder = recordingFetch()
  const clientOptions = { baseUrl: tap.url, fetch: recorder.fetch, retryOnExpiredSession: o.retryOnExpiredSession }
  return {
    upstream,
    tap,
    recorder,
    errors,
    /** The backend forgets every session. */
    restartBackend: build,
    openai: createSecureOpenAI(clientOptions),
    anthropic: createSecureAnthropic(clientOptions),
    clientOptions,
    /** The last request the provider stand-in received. */
    lastUpstream: () => upstream.requests.at(-1),
    async close() {
      await tap.close()
      await backend.close()
      await upstream.close()
    },
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Rejects if `p` has not settled within `ms`. */
export function within(ms, p, what = 'operation') {
  let t
  return Promise.race([p, new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t))
}

/** Collects what `console.error` / `console.warn` / `console.log` print while `f` runs. */
export async function captureConsole(f) {
  const lines = []
  const saved = { error: console.error, warn: console.warn, log: console.log, info: console.info }
  for (const k of Object.keys(saved)) console[k] = (...args) => lines.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' '))
  try {
    return { result: await f(), lines }
  } finally {
    Object.assign(console, saved)
  }
}
