// The Nen configuration of the example's Edge-runtime routes (app/api/edge/). Next.js runs each
// edge route in a sandbox of its own, so they share sessions through a store that every one
// reaches: Upstash's REST API (UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, and the
// NEN_WRAPPING_KEY the native instances use, so Node and edge routes can share it too).
//
// Edge routes are static paths: under the Edge runtime, Next.js passes a route's dynamic segments
// to the handler as query parameters of `request.url` (`[id]` arrives as `?id=…`), which is not the
// target the client signed, so a dynamic edge route answers ISO-3002.
import { createNen, createNenRoute, type Nen, type NenRoute, UpstashSessionStore } from '@withnen/server'

let nen: Nen | undefined
let routes: NenRoute | undefined
export let engine: string | null = null

/** Created on first use: the store reads its environment then, not at build time. */
export function edgeNen(): Nen {
  nen ??= createNen({
    store: UpstashSessionStore(),
    onEvent: (e) => {
      if (e.type === 'engine') engine = e.engine
    },
  })
  return nen
}

/** The Nen routes on this configuration: each static route file calls the one its path names. */
export function edgeRoutes(): NenRoute {
  routes ??= createNenRoute({ nen: edgeNen() })
  return routes
}
