// The Engine on the WebAssembly build of the Nen core (crates/nen-wasm's server exports), for
// runtimes that cannot load the native addon: Next.js Edge, Cloudflare Workers, Deno, or Node
// without a prebuilt binary. The steps, their order and what each store answer means are
// nen_core::engine's, as in the native NenServer: this file moves values between the core and a
// JavaScript store adapter (./wasm-store.ts), with the same key names and wrapped values, so
// native and edge instances can share one store.
//
// Session keys never reach JavaScript: the core hands out handles (`Opened`) and wrapped
// sessions (encrypted under the wrapping key, bound to their sid), which is all the store sees.

import init, * as glue from '../../wasm/nen_wasm.js'
import type { Opened as CoreOpened, Parsed as CoreParsed, ServerEngine as CoreEngine, ServerEngineConfig, Verified } from '../../wasm/nen_wasm.js'
import { NenError, asNenError, errorReply } from '../errors.js'
import { env } from '../env.js'
import type { Engine, EngineOptions, EngineRequest, EngineStream, NenReply, NenStoreAdapter, Opened } from './types.js'
import { ENGINE_OPTION_KEYS } from './types.js'
import { WasmSessionStore, createMemoryStoreAdapter } from './wasm-store.js'
import { REQUEST_HEADERS } from '../../../shared/generated/protocol.js'
import { DEFAULT_KEY_PREFIX } from '../store-layout.js'
import { loadFailureMessage } from '../../../shared/wasm/errors.js'
import { isWasmInput, type WasmInput } from '../../../shared/wasm/input.js'
import { defaultWasmSource } from '../../../shared/wasm/source.js'

/** What `initWasmEngine` loads the core from: `WasmInput`, the type @withnen/client's `preloadNen` takes. */
export type WasmSource = WasmInput
export type { WasmInput }

export { createMemoryStoreAdapter, type MemoryStoreAdapter } from './wasm-store.js'

type Glue = typeof glue

let loading: Promise<Glue> | undefined
let loaded: Glue | undefined

/**
 * Loads the WebAssembly core, once per isolate, on first use (never at import). By default from
 * `nen.wasm` beside this bundle: read with node:fs on Node (only when the native addon is
 * unavailable), fetched by URL in browsers, imported as a compiled module by the edge builds
 * (the `workerd`, `worker` and `edge-light` export conditions). Runtimes that forbid compiling
 * WebAssembly from bytes and were bundled without those conditions need the precompiled module:
 * call this with it (`import wasm from '@withnen/server/nen.wasm'`, or `…/nen.wasm?module` on
 * Next.js edge) before the first request. A failed load rejects with ISO-9001 and is not kept:
 * a later call tries again. Calls after the core loaded resolve at once.
 */
export function initWasmEngine(source?: WasmSource): Promise<void> {
  return loadCore(source).then(() => undefined)
}

function loadFailure(e: unknown): NenError {
  return e instanceof NenError ? e : new NenError('ISO-9001', { message: loadFailureMessage(e, '@withnen/server', 'initWasmEngine'), cause: e })
}

function loadCore(source?: WasmSource): Promise<Glue> {
  if (loaded) return Promise.resolve(loaded)
  if (source !== undefined && !isWasmInput(source)) {
    return Promise.reject(new NenError('ISO-9001', { message: 'initWasmEngine expects a WebAssembly.Module, its bytes (ArrayBuffer or typed array) or a Response' }))
  }
  // A load already running: wait for it; if it fails and this call brought a source, use it.
  if (loading) return source === undefined ? loading : loading.catch(() => loadCore(source))
  const attempt = (async () => {
    try {
      await init({ module_or_path: source ?? (await defaultWasmSource()) })
    } catch (e) {
      throw loadFailure(e)
    }
    loaded = glue
    return glue
  })()
  loading = attempt
  attempt.then(
    () => {},
    () => {
      // A failed load (a runtime refusing to compile bytes) may be retried, with a module.
      if (loading === attempt) loading = undefined
    },
  )
  return attempt
}

/** Any failure as a NenError: the core's coded errors keep their code, the rest is ISO-9000. */
function coded(e: unknown): NenError {
  return asNenError(e) ?? new NenError('ISO-9000', { cause: e })
}

function call<T>(f: () => T): T {
  try {
    return f()
  } catch (e) {
    throw coded(e)
  }
}

function jsonReply(status: number, body: string): NenReply {
  return { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body }
}

/** The request as the core reads it: only the `x-nen-*` headers, from a plain object or a `Headers`. */
function coreRequest(req: EngineRequest) {
  const h = req.headers as unknown as Record<string, unknown> & { get?: unknown }
  const headers: Record<string, string | undefined> = {}
  for (const name of REQUEST_HEADERS) {
    const v = typeof h?.get === 'function' ? (h as unknown as Headers).get(name) : h?.[name]
    // A repeated header (a Node array) is not a value the client sent: treated as absent.
    if (typeof v === 'string') headers[name] = v
  }
  return { method: req.method, url: req.url, headers, body: req.body }
}

function randomKey(): string {
  const b = new Uint8Array(32)
  crypto.getRandomValues(b)
  return btoa(String.fromCharCode(...b))
}

/** Everything resolved before the core loads: the store and the core's config. */
interface Setup {
  store: WasmSessionStore
  config: ServerEngineConfig
}

const DEFAULT_PREFIX = DEFAULT_KEY_PREFIX

function setup(options: EngineOptions): Setup {
  const s = options.store ?? { kind: 'memory' }
  let adapter: NenStoreAdapter
  let prefix = DEFAULT_PREFIX
  let timeoutMs = 1000
  let wrappingKey: string | undefined
  let wrappingKeys: string[] | undefined
  switch (s.kind) {
    case 'memory':
      // Sessions never leave this isolate: a key of its own wraps them.
      adapter = createMemoryStoreAdapter({ maxSessions: options.maxSessions })
      wrappingKey = randomKey()
      break
    case 'js':
      adapter = s.adapter
      prefix = s.keyPrefix ?? DEFAULT_PREFIX
      timeoutMs = Math.max(1, Math.trunc(s.timeoutMs ?? 1000))
      wrappingKey = s.wrappingKey ?? env('NEN_WRAPPING_KEY')
      wrappingKeys = s.wrappingKeys
      if (!wrappingKey && !wrappingKeys) throw new NenError('ISO-9001', { message: 'a JavaScript store needs a wrappingKey (or NEN_WRAPPING_KEY)' })
      break
    case 'redis':
    case 'redis-cluster':
      throw new NenError('ISO-9001', {
        message: 'the WebAssembly engine cannot open Redis connections: use UpstashSessionStore (or another NenStoreAdapter), or the native engine',
      })
    default:
      throw new NenError('ISO-9001', { message: `unknown store kind ${String((s as { kind?: unknown }).kind)}` })
  }
  const config = { wrappingKey, ...(wrappingKeys ? { wrappingKeys } : {}) } as ServerEngineConfig
  for (const k of ENGINE_OPTION_KEYS) if (options[k] !== undefined) (config as unknown as Record<string, unknown>)[k] = options[k]
  return { store: new WasmSessionStore(adapter, prefix, timeoutMs), config }
}

type Action = 'rotate' | 'terminate' | 'status'

/** The WASM engine: the Engine interface, plus what only it has. */
export interface WasmEngine extends Engine {
  /** Resolves once the core is loaded and the configuration accepted (rejects with ISO-9001 otherwise). */
  ready(): Promise<void>
  /** The identity's public key (base64), or null without one; available once `ready()` resolved. */
  readonly identityPublicKey: string | null
  /** Unwrapped sessions cached in this isolate (filled only after a request verified; at most 10 000). */
  readonly cachedSessions: number
  /** Test builds of the core only (`testRngSeed`): moves the fixed clock; ISO-9001 otherwise. */
  setTestNow(nowMs: number): void
}

class WasmEngineImpl implements WasmEngine {
  private readonly store: WasmSessionStore
  private readonly config: ServerEngineConfig
  private pending: Promise<CoreEngine> | undefined
  private loaded: CoreEngine | undefined

  constructor(s: Setup) {
    this.store = s.store
    this.config = s.config
    // Started now (on the first request, never at import); reported by whichever call awaits it,
    // not an unhandled rejection meanwhile.
    this.core.catch(() => {})
  }

  /** The core's engine; a failed load is not kept, so a later request (or `initWasmEngine(module)`) retries. */
  private get core(): Promise<CoreEngine> {
    if (this.loaded) return Promise.resolve(this.loaded)
    if (!this.pending) {
      const p = loadCore().then((g) => {
        this.loaded = call(() => new g.ServerEngine(this.config))
        return this.loaded
      })
      this.pending = p
      p.catch(() => {
        if (this.pending === p) this.pending = undefined
      })
    }
    return this.pending
  }

  async ready(): Promise<void> {
    await this.core
  }

  get identityPublicKey(): string | null {
    return this.loaded ? ((this.loaded.identityPublicKey as string | null | undefined) ?? null) : null
  }

  setTestNow(nowMs: number): void {
    if (!this.loaded) throw new NenError('ISO-9001', { message: 'engine not ready' })
    // Only the test build of the core (cargo feature test-hooks) has it.
    const core = this.loaded as unknown as { setTestNow?: (nowMs: number) => void }
    if (typeof core.setTestNow !== 'function') throw new NenError('ISO-9001', { message: 'setTestNow exists only in test builds' })
    call(() => core.setTestNow?.(nowMs))
  }

  private opened(o: Opened): CoreOpened {
    if (!(o instanceof glue.Opened)) throw new NenError('ISO-9001', { message: 'not a request opened by the WebAssembly engine' })
    return o
  }

  private sync(): CoreEngine {
    // Only reachable with an Opened, which only exists once the core loaded.
    if (!this.loaded) throw new NenError('ISO-9000', { message: 'engine not ready' })
    return this.loaded
  }

  async handshake(body: string | Uint8Array): Promise<NenReply> {
    const core = await this.core
    const hs = call(() => core.handshake(body))
    await this.store.put(hs.sid, hs.wrapped, hs.ttlMs)
    return jsonReply(200, hs.response)
  }

  async open(req: EngineRequest): Promise<Opened> {
    const core = await this.core
    const parsed = call(() => core.parse(coreRequest(req)))
    try {
      return await this.openParsed(core, parsed)
    } finally {
      parsed.free()
    }
  }

  /**
   * The session from the core's cache, else its record from the store (ISO-2002 if missing);
   * verify and decrypt; record the nonce; the core reads the store's answer.
   */
  private async openParsed(core: CoreEngine, parsed: CoreParsed): Promise<CoreOpened> {
    const sid = parsed.sid
    let verified: Verified | undefined = call(() => core.openCached(parsed))
    if (verified === undefined) {
      const record = await this.store.load(sid)
      verified = call(() => core.open(parsed, record.entry, record.retiredAt ?? undefined))
    }
    const v = verified
    let outcome: string
    try {
      outcome = await this.store.recordNonce(sid, v.nonceField, v.nowMs, v.untilMs)
    } catch (e) {
      v.free()
      throw e
    }
    return call(() => core.recorded(v, outcome))
  }

  /** Unwrapped sessions the core caches in this isolate (at most 10 000). */
  get cachedSessions(): number {
    return this.loaded ? this.loaded.cachedSessions : 0
  }

  seal(opened: Opened, json: string | Uint8Array, status?: number): string {
    return call(() => this.sync().seal(this.opened(opened), json, status))
  }

  sealHead(opened: Opened, status?: number): string {
    return call(() => this.sync().sealHead(this.opened(opened), status))
  }

  sealError(opened: Opened, code: string): NenReply {
    return call(() => this.sync().sealError(this.opened(opened), code))
  }

  stream(opened: Opened, padBlock?: number): EngineStream {
    const s = call(() => this.sync().stream(this.opened(opened), padBlock))
    return {
      headers: s.headers,
      chunk: (data) => call(() => s.chunk(data)),
      finish: () => call(() => s.finish()),
      fail: (code) => call(() => s.fail(code)),
      get finished() {
        return s.finished
      },
    }
  }

  rotate(req: EngineRequest): Promise<NenReply> {
    return this.lifecycle('rotate', req)
  }

  terminate(req: EngineRequest): Promise<NenReply> {
    return this.lifecycle('terminate', req)
  }

  status(req: EngineRequest): Promise<NenReply> {
    return this.lifecycle('status', req)
  }

  /**
   * The native `lifecycle`, always answered: method and body rules, full open (nonce recorded),
   * then the action. Failures before authentication are plain replies; after it, sealed ones.
   */
  private async lifecycle(action: Action, req: EngineRequest): Promise<NenReply> {
    let opened: CoreOpened
    let core: CoreEngine
    try {
      core = await this.core
      const c = core
      call(() => c.checkLifecycle(action, req.method, req.body !== undefined && req.body.length > 0))
      const parsed = call(() => c.parse(coreRequest(req)))
      try {
        opened = await this.openParsed(c, parsed)
      } finally {
        parsed.free()
      }
    } catch (e) {
      return errorReply(coded(e))
    }
    try {
      return await this.action(core, action, opened)
    } catch (e) {
      return call(() => core.sealError(opened, coded(e).code))
    } finally {
      opened.free()
    }
  }

  private async action(core: CoreEngine, action: Action, opened: CoreOpened): Promise<NenReply> {
    switch (action) {
      case 'rotate': {
        const step = call(() => core.rotate(opened))
        // Claim the rotation first: a session has at most one successor (the core releases it
        // only for the store's `ok`).
        let outcome: string
        try {
          outcome = await this.store.retire(opened.sid, step.retireAtMs, step.retireTtlMs)
        } catch (e) {
          step.free()
          throw e
        }
        const r = call(() => core.retired(opened, step, outcome))
        await this.store.put(r.newSid, r.newWrapped, r.ttlMs)
        return jsonReply(200, r.response)
      }
      case 'terminate':
        await this.store.delete(opened.sid)
        return jsonReply(
          200,
          call(() => core.terminateBody(opened)),
        )
      case 'status': {
        // The store's record, not a cache: another instance may have rotated it.
        const { retiredAt } = await this.store.load(opened.sid)
        return jsonReply(
          200,
          call(() => core.statusBody(opened, retiredAt ?? undefined)),
        )
      }
    }
  }
}

/**
 * Creates the engine on the WebAssembly core. Store and test-hook problems throw ISO-9001 here;
 * the core loads in the background and checks the rest of the configuration, so an invalid
 * option (a bad key, an unknown mode) rejects the first call, or `ready()`, with ISO-9001.
 * `loadWasmEngine` awaits that instead.
 */
export function createWasmEngine(options: EngineOptions): WasmEngine {
  return new WasmEngineImpl(setup(options))
}

/** `createWasmEngine`, resolved once the core is loaded and the configuration accepted. */
export async function loadWasmEngine(options: EngineOptions): Promise<WasmEngine> {
  const engine = createWasmEngine(options)
  await engine.ready()
  return engine
}
