// The Engine on @withnen/server-native, the Rust addon. Session keys stay in Rust memory; this
// file only forwards calls and turns the addon's errors into this package's NenError.

import { NenError, asNenError } from '../errors.js'
import type { Engine, EngineOptions, EngineRequest, EngineStream, NenReply, Opened } from './types.js'

interface NativeServer {
  readonly isSync: boolean
  handshake(body: string | Uint8Array): Promise<NenReply>
  handshakeSync(body: string | Uint8Array): NenReply
  open(req: EngineRequest): Promise<Opened>
  openSync(req: EngineRequest): Opened
  seal(opened: Opened, json: string, status?: number): string
  sealHead(opened: Opened, status?: number): string
  sealError(opened: Opened, code: string): NenReply
  stream(opened: Opened, padBlock?: number): EngineStream
  rotate(req: EngineRequest): Promise<NenReply>
  terminate(req: EngineRequest): Promise<NenReply>
  status(req: EngineRequest): Promise<NenReply>
}

interface NativeModule {
  NenServer: new (options: unknown) => NativeServer
}

// The CJS build has no import.meta.url (build.mjs defines it as undefined) but has __filename.
declare const __filename: string | undefined

/**
 * This package's own file URL, for the in-repository fallback below; undefined where neither
 * form exists (bundled for an edge runtime).
 */
function selfUrl(): string | undefined {
  const esm = import.meta.url as string | undefined
  if (esm) return esm
  if (typeof __filename === 'string') return 'file://' + encodeURI(__filename.replace(/\\/g, '/').replace(/^(?!\/)/, '/'))
  return undefined
}

// packages/server/dist/<file> → the repository root, whose package *is* @withnen/server-native.
// A variable (not a literal) so bundlers do not try to pull it into an application's build.
const REPO_ENTRY = '../../../nen.js'

function usable(mod: unknown): NativeModule {
  // An ESM import of the CommonJS addon puts module.exports on `default`.
  const m = ((mod as { default?: unknown }).default ?? mod) as Partial<NativeModule>
  if (typeof m.NenServer !== 'function') throw new Error('not the Nen native addon')
  return m as NativeModule
}

let loading: Promise<NativeModule> | undefined

/**
 * Loads @withnen/server-native, by package name first: that is how an application has it. This
 * repository's root is that package but not a member of its own npm workspace, so inside the
 * repository the name does not resolve; only then is the root's entry tried, by its path from
 * dist/. Installed anywhere else (node_modules/@withnen/server/dist), three levels up is a
 * node_modules directory with no nen.js in it, so the fallback finds nothing outside this
 * repository. Loaded on first use, never at import, so runtimes without native addons can
 * import this package and fall back to the WASM engine.
 */
export function loadNative(): Promise<NativeModule> {
  loading ??= (async () => {
    try {
      return usable(await import('@withnen/server-native'))
    } catch (first) {
      const base = selfUrl()
      if (!base) throw first
      try {
        return usable(await import(/* webpackIgnore: true */ /* @vite-ignore */ new URL(REPO_ENTRY, base).href))
      } catch (second) {
        // The repository's addon was found but its binary did not load: that is the reason to
        // report (it names the missing platform package), not the package name's resolution.
        throw (second as { name?: unknown }).name === 'NenBindingError' ? second : first
      }
    }
  })()
  return loading
}

function coded(e: unknown): unknown {
  return asNenError(e) ?? e
}

/** Creates the native engine; rejects if the addon cannot load or the options are invalid. */
export async function createNativeEngine(options: EngineOptions): Promise<Engine> {
  const native = await loadNative()
  let server: NativeServer
  try {
    server = new native.NenServer(options)
  } catch (e) {
    throw asNenError(e) ?? new NenError('ISO-9001', { cause: e })
  }
  // With the memory store the addon can answer inline: a thread hop costs more than the crypto
  // of a request (PERF-NOTES: 28-37 µs against about 2 µs), and a handshake's ML-KEM is about
  // break-even. Stores with I/O run on tokio, where the crypto rides the store round trip.
  const sync = server.isSync
  const inline = <T>(f: () => T): Promise<T> => {
    try {
      return Promise.resolve(f())
    } catch (e) {
      return Promise.reject(coded(e))
    }
  }
  const later = <T>(p: Promise<T>): Promise<T> => p.catch((e) => Promise.reject(coded(e)))
  const now = <T>(f: () => T): T => {
    try {
      return f()
    } catch (e) {
      throw coded(e)
    }
  }
  return {
    handshake: (body) => (sync ? inline(() => server.handshakeSync(body)) : later(server.handshake(body))),
    open: (req) => (sync ? inline(() => server.openSync(req)) : later(server.open(req))),
    seal: (opened, json, status) => now(() => server.seal(opened, json, status)),
    sealHead: (opened, status) => now(() => server.sealHead(opened, status)),
    sealError: (opened, code) => now(() => server.sealError(opened, code)),
    stream: (opened, padBlock) => {
      const s = now(() => server.stream(opened, padBlock))
      return {
        headers: s.headers,
        chunk: (data) => now(() => s.chunk(data)),
        finish: () => now(() => s.finish()),
        fail: (code) => now(() => s.fail(code)),
        get finished() {
          return s.finished
        },
      }
    },
    rotate: (req) => later(server.rotate(req)),
    terminate: (req) => later(server.terminate(req)),
    status: (req) => later(server.status(req)),
  }
}
