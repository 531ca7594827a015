'use strict'
// Entry point of @withnen/server-native: the generated binding (index.js) plus NenError.
// Native failures cross the boundary as errors whose `code` the addon sets (napi's custom
// status); every exported method is wrapped here so callers see a NenError with code, status
// and message.

const { bindingError } = require('./binding-error.js')

let native
try {
  native = require('./index.js')
} catch (e) {
  throw bindingError(e)
}

class NenError extends Error {
  /**
   * @param {string} code ISO-xxxx
   * @param {string} [message] defaults to the catalogue message
   * @param {number} [status] defaults to the catalogue status
   */
  constructor(code, message, status, authenticated = false) {
    const info = native.describeNenCode(code)
    super(message ?? (info ? info.message : 'Internal error'))
    this.name = 'NenError'
    this.code = info ? info.code : 'ISO-9000'
    this.status = status ?? (info ? info.status : 500)
    /** True when the server sealed this failure for the request: genuine, not a hop's forgery. */
    this.authenticated = authenticated
  }

  /** The wire body `{"error":{"code","message"}}`: the catalogue message only. */
  toBody() {
    const info = native.describeNenCode(this.code)
    return JSON.stringify({ error: { code: this.code, message: info ? info.message : 'Internal error' } })
  }
}

const CODE = /^ISO-\d{4}$/

/** Re-classes a native error (its `code` set at the source) as a NenError; other values pass through unchanged. */
function toNenError(e) {
  if (e instanceof NenError) return e
  return e instanceof Error && typeof e.code === 'string' && CODE.test(e.code) ? new NenError(e.code, e.message) : e
}

/**
 * A ready-to-send reply for any failure: NenErrors keep their code and status; anything else
 * becomes ISO-9000 without detail (never a stack trace on the wire).
 */
function errorReply(e) {
  const err = toNenError(e)
  const ne = err instanceof NenError ? err : new NenError('ISO-9000')
  // x-nen-error carries the code where there is no body (HEAD); it is a hint, never trusted.
  return { status: ne.status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-nen-error': ne.code }, body: ne.toBody() }
}

function wrapSync(fn) {
  return function (...args) {
    try {
      return fn.apply(this, args)
    } catch (e) {
      throw toNenError(e)
    }
  }
}

function wrapAsync(fn) {
  return function (...args) {
    let p
    try {
      p = fn.apply(this, args)
    } catch (e) {
      return Promise.reject(toNenError(e))
    }
    return p.then(undefined, (e) => {
      throw toNenError(e)
    })
  }
}

function wrapMethods(Class, sync, async) {
  // `setTestNow` exists only in the test build (cargo feature test-hooks).
  for (const name of sync) if (Class.prototype[name]) Class.prototype[name] = wrapSync(Class.prototype[name])
  for (const name of async) if (Class.prototype[name]) Class.prototype[name] = wrapAsync(Class.prototype[name])
}

wrapMethods(native.NenServer, ['handshakeSync', 'openSync', 'seal', 'sealHead', 'sealError', 'stream', 'memoryStats', 'setTestNow'], ['handshake', 'open', 'rotate', 'terminate', 'status'])
wrapMethods(native.NenStream, ['chunk', 'finish', 'fail'], [])
wrapMethods(native.NenClientHandshake, ['finish'], [])
wrapMethods(native.NenClientSession, ['sign', 'openAnswer', 'openHeadAnswer', 'openStream', 'beginRotation'], [])

/** A sealed failure: thrown as an authenticated NenError. */
function bodyOf(answer) {
  if (answer.errorCode) throw new NenError(answer.errorCode, undefined, undefined, true)
  return answer.body
}
/** The handler's JSON text; a sealed failure throws a NenError with `authenticated: true`. */
native.NenClientSession.prototype.open = function (request, status, body) {
  return bodyOf(this.openAnswer(request, status, body))
}
/** Checks a HEAD answer; a sealed failure throws a NenError with `authenticated: true`. */
native.NenClientSession.prototype.openHead = function (request, status, header) {
  bodyOf(this.openHeadAnswer(request, status, header))
}
wrapMethods(native.NenStreamReader, ['push', 'finish'], [])

// A store written in JavaScript: the addon calls one dispatcher, which forwards to the adapter.
// `load` answers "<entry>" or "<entry> <retiredAt>" (entries are base64, without spaces).
async function callAdapter(adapter, op, key, arg, a, b) {
  switch (op) {
    case 'load': {
      const r = await adapter.load(key)
      if (r == null) return null
      return r.retiredAt == null ? String(r.entry) : `${r.entry} ${Math.trunc(Number(r.retiredAt))}`
    }
    case 'put':
      await adapter.put(key, arg, a)
      return null
    case 'delete':
      await adapter.delete(key)
      return null
    case 'retire':
      return String(await adapter.retire(key, a, b))
    case 'recordNonce':
      return String(await adapter.recordNonce(key, arg, a, b))
    default:
      throw new Error(`unknown store operation ${op}`)
  }
}

class NenServer extends native.NenServer {
  constructor(options) {
    // The reproducibility hooks exist only in the test build (cargo feature test-hooks): refuse
    // them loudly rather than run unseeded while the caller believes otherwise.
    if (options && (options.testRngSeed !== undefined || options.testNowMs !== undefined) && !native.NenServer.prototype.setTestNow) {
      throw new NenError('ISO-9001', 'Invalid Nen configuration: testRngSeed exists only in test builds of the addon')
    }
    const adapter = options && options.store && options.store.adapter
    let opts = options
    let dispatch
    if (adapter) {
      const { adapter: _, ...store } = options.store
      opts = { ...options, store: { ...store, kind: 'js' } }
      dispatch = (op, key, arg, a, b) => callAdapter(adapter, op, key, arg, a, b)
    }
    try {
      super(opts, dispatch)
    } catch (e) {
      throw toNenError(e)
    }
  }
}

// Static factories are read-only on native classes: wrap them in a subclass.
class NenClientHandshake extends native.NenClientHandshake {
  static start(mode) {
    try {
      return native.NenClientHandshake.start(mode)
    } catch (e) {
      throw toNenError(e)
    }
  }
}

module.exports = {
  ...native,
  NenServer,
  NenClientHandshake,
  NenError,
  toNenError,
  errorReply,
  generateIdentity: wrapSync(native.generateIdentity),
}
