// Configuration: a Nen instance is a set of options and the engine built from them, created on
// first use. The default instance lives on globalThis so that every copy of this package in a
// process (its ESM and CJS builds, its three entry points, a bundler's per-route copies) shares one
// configuration and one engine.

import { NenError, asNenError } from './errors.js'
import { env } from './env.js'
import { createEngine, type Engine, type EngineChoice, type EngineOptions, type NenStoreAdapter } from './engine/index.js'
import { ENGINE_OPTION_KEYS } from './engine/types.js'
import { type NenEvent, createDefaultLogger } from './events.js'
import { observeEngine } from './observed-engine.js'
import { resolveStore, type SessionStore } from './stores.js'

/** What `onError` is told besides the error. */
export interface NenErrorInfo {
  /** `'engine'`: the engine could not be created; `'handler'` / `'stream'`: your handler threw. */
  phase: 'engine' | 'handler' | 'stream'
  method: string
  /** Path of the request (no query). */
  path: string
}

/** Server options. Every field is optional. */
export interface NenOptions {
  /** Where sessions live. Default: `InMemorySessionStore()` (one instance, development). */
  store?: SessionStore | NenStoreAdapter
  /** ML-DSA-65 identity seed (base64) signing every handshake. Default: `NEN_IDENTITY_SECRET_KEY`. */
  identitySecretKey?: string
  /** Session lifetime, ms. Default 3 600 000. */
  sessionTtlMs?: number
  /** Accepted clock skew either side, ms. Default 30 000. */
  windowMs?: number
  /** How long a rotated-away session still answers, ms. Default 10 000. */
  rotationGraceMs?: number
  /** Largest request body, bytes (larger: ISO-4005, 413). Default 1 048 576; at least 4 096. */
  maxBodyBytes?: number
  /** Largest handshake request, bytes (larger: ISO-1008, 413). Default 65 536. */
  maxHandshakeBytes?: number
  /**
   * The largest clock difference between instances sharing a store, ms: replay records are kept
   * this much longer than the window. Default 5 000.
   */
  maxClockSkewMs?: number
  /**
   * Most sessions the memory store holds (about 1 KB each); past it new handshakes get ISO-8003
   * (503), never an eviction of a live session. Default 200 000.
   */
  maxSessions?: number
  /** A per-instance token bucket for handshakes: past it ISO-1009 (429). Default none. */
  handshakeBudget?: { perSecond: number; burst?: number }
  /**
   * A per-client limit, asked before each handshake with the request (a Web `Request` or a
   * node:http `IncomingMessage`): key it by IP or anything you choose; `false` answers ISO-1009
   * (429). Handshakes are unauthenticated: this is where a flood is best stopped.
   */
  allowHandshake?: (req: unknown) => boolean | Promise<boolean>
  /** Pad stream chunks to multiples of this many bytes; 0 is off. Default 0. */
  streamPadding?: number
  /** Key exchanges accepted. Default both; `['mlkem768']` for FIPS-only deployments. */
  modes?: Array<'hybrid' | 'mlkem768'>
  /** `'auto'` (default): the native addon where it loads, else WebAssembly. */
  engine?: EngineChoice
  /**
   * Called when the engine cannot be created or a handler throws. Default: a one-line
   * `console.error` naming the code, or only the error's class for uncoded errors (their message
   * may quote the decrypted payload). Coded errors a handler throws on purpose are not logged.
   */
  onError?: (error: unknown, info: NenErrorInfo) => void
  /**
   * Called with every operational event (`NenEvent`): requests refused by code, store outages,
   * wrapping-key mismatches and store latency, handshakes, rotations and terminations, the engine
   * chosen and why. No event carries a key, a body, a signature or a full session id. Default: a
   * logger printing one line per distinct cause, then at most one line a minute per cause
   * (handshakes, rotations and latency are not printed).
   */
  onEvent?: (event: NenEvent) => void
  /**
   * Development mode: explains an ISO-3002 (signature mismatch) on the server log or `onEvent`
   * with the method and target the server verified and the `x-nen-*` headers it saw (values
   * that are not secret; the signature only by its length). Default: on when
   * `NODE_ENV === 'development'` (as under `next dev`), off otherwise.
   */
  debug?: boolean
  /** Test builds of the engines only (the published ones refuse it): deterministic randomness. */
  testRngSeed?: string
  /** Tests only, with `testRngSeed`: a fixed clock, Unix ms. */
  testNowMs?: number
}

/** The path of an absolute or `path?query` URL, for reports. */
export function pathOf(url: string): string {
  try {
    return new URL(url, 'http://localhost').pathname
  } catch {
    return '?'
  }
}

/** The engines' defaults (nen_core::server), repeated so bodies can be bounded while they are read. */
const DEFAULT_MAX_BODY = 1 << 20
const DEFAULT_MAX_HANDSHAKE = 64 * 1024

function engineOptions(o: NenOptions): EngineOptions {
  const out: EngineOptions = { store: resolveStore(o.store) }
  // identitySecretKey falls back to the environment below.
  for (const k of ENGINE_OPTION_KEYS) if (k !== 'identitySecretKey' && o[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = o[k]
  const identity = o.identitySecretKey ?? env('NEN_IDENTITY_SECRET_KEY')
  if (identity !== undefined) out.identitySecretKey = identity
  return out
}

/** Where an error was thrown: the stack's first frame, which names code, never data. */
function origin(error: unknown): string {
  const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : ''
  const frame = stack.split('\n').find((l) => l.trimStart().startsWith('at '))
  return frame ? ` ${frame.trim()}` : ''
}

function defaultOnError(error: unknown, info: NenErrorInfo): void {
  const coded = asNenError(error)
  if (coded && info.phase !== 'engine') return
  const what = coded ? `${coded.code} ${coded.message}` : `${error instanceof Error ? error.name : typeof error} (message withheld: set onError to see it)${origin(error)}`
  console.error(`[nen] ${info.phase} failed on ${info.method} ${info.path}: ${what}`)
}

/** A configuration and its engine, created on first use. */
export class Nen {
  readonly options: Readonly<NenOptions>
  private pending: Promise<Engine> | undefined
  private failureReported = false

  constructor(options: NenOptions = {}) {
    this.options = { ...options }
  }

  /** The engine; every call after the first returns the same one (or the same failure). */
  engine(): Promise<Engine> {
    this.pending ??= (async () => {
      const options = engineOptions(this.options)
      const engine = await createEngine(options, this.options.engine, (s) => this.emit({ type: 'engine', ...s }))
      return observeEngine(engine, {
        emit: (e) => this.emit(e),
        latency: this.options.onEvent !== undefined && options.store.kind !== 'memory',
        debug: this.options.debug ?? env('NODE_ENV') === 'development',
      })
    })()
    return this.pending
  }

  private logger: ((e: NenEvent) => void) | undefined

  /** Passes an event to `onEvent`, or to the default logger; a throwing hook cannot break a request. */
  emit(event: NenEvent): void {
    try {
      const hook = this.options.onEvent ?? (this.logger ??= createDefaultLogger())
      hook(event)
    } catch {}
  }

  /**
   * The engine for a request; a failure to create it is reported once, not on every request.
   * `url` (absolute or `path?query`) is only parsed for that report.
   */
  async ready(method: string, url: string): Promise<Engine> {
    try {
      return await this.engine()
    } catch (e) {
      if (!this.failureReported) {
        this.failureReported = true
        this.report(e, { phase: 'engine', method, path: pathOf(url) })
      }
      throw e
    }
  }

  /** The largest body accepted, for bounding reads before the engine sees them. */
  get maxBodyBytes(): number {
    return this.options.maxBodyBytes ?? DEFAULT_MAX_BODY
  }

  /** Whether this client may handshake now (`allowHandshake`); ISO-1009 otherwise. */
  async admitHandshake(req: unknown): Promise<void> {
    const allow = this.options.allowHandshake
    if (allow && !(await allow(req))) throw new NenError('ISO-1009')
  }

  /** The largest handshake request accepted, for bounding reads before the engine sees them. */
  get maxHandshakeBytes(): number {
    return this.options.maxHandshakeBytes ?? DEFAULT_MAX_HANDSHAKE
  }

  /** Passes a failure to `onError`; a throwing `onError` cannot break the response. */
  report(error: unknown, info: NenErrorInfo): void {
    try {
      ;(this.options.onError ?? defaultOnError)(error, info)
    } catch {}
  }
}

/** A separate configuration with its own engine (two stores in one process, tests). */
export function createNen(options?: NenOptions): Nen {
  return new Nen(options)
}

const SLOT = Symbol.for('@withnen/server.default')

interface Slot {
  options: NenOptions
  nen?: Nen
}

function slot(): Slot {
  const g = globalThis as unknown as Record<symbol, Slot | undefined>
  return (g[SLOT] ??= { options: {} })
}

/** The default instance, used by every handler not given its own. */
export function defaultNen(): Nen {
  const s = slot()
  return (s.nen ??= new Nen(s.options))
}

/**
 * Sets the default configuration. Call it before the first request (in a module your routes
 * import); calling it again starts a new engine for later requests. A store set with
 * `setSessionStore` is kept unless `options.store` replaces it.
 */
export function configureNen(options: NenOptions = {}): void {
  const s = slot()
  s.options = { ...options, store: options.store ?? s.options.store }
  s.nen = undefined
}

/** Sets the default configuration's session store. */
export function setSessionStore(store: SessionStore | NenStoreAdapter): void {
  const s = slot()
  s.options = { ...s.options, store }
  s.nen = undefined
}
