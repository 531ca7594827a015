// The server-side allow-list: which request params a browser may set, which model it may use,
// and how many tokens it may ask for. Everything else the browser sends is dropped before the
// provider is called, so a page (or anyone holding a session) cannot switch on tools, storage,
// billing tiers or other upstream options.

/** Params every provider adapter shares. */
export interface ParamPolicy {
  /**
   * The model to use. Without `models`, it replaces whatever the browser asked for; with
   * `models`, it is used when the browser's choice is missing or not listed. Default: the first of
   * `models`, or the browser's choice when neither is set.
   */
  model?: string
  /** Models the browser may choose from. Anything else falls back to `model`. */
  models?: readonly string[]
  /** Upper bound on the output-token parameters; larger requests are lowered to it. */
  maxTokens?: number
  /**
   * Params allowed on top of the adapter's default allow-list (e.g. `['tools', 'tool_choice']`).
   * Only top-level names: what is inside an allowed param (message content) is passed as sent.
   */
  allowParams?: readonly string[]
}

/** A plain object, or an empty one for anything else (arrays, null, scalars). */
export function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}

/**
 * Applies `policy` to `params`: keeps the allowed names (own, enumerable; `stream` is never taken
 * from the browser), picks the model, caps the token params. Returns a new object.
 */
export function applyPolicy(params: unknown, defaults: readonly string[], tokenParams: readonly string[], policy: ParamPolicy): Record<string, unknown> {
  const source = asObject(params)
  const allowed = new Set([...defaults, ...(policy.allowParams ?? [])])
  allowed.delete('stream')
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(source)) {
    if (allowed.has(key) && key !== '__proto__' && source[key] !== undefined) out[key] = source[key]
  }
  const fallback = policy.model ?? policy.models?.[0]
  if (policy.models && policy.models.length > 0) {
    if (typeof out.model !== 'string' || !policy.models.includes(out.model)) {
      if (fallback === undefined) delete out.model
      else out.model = fallback
    }
  } else if (policy.model !== undefined) {
    out.model = policy.model
  }
  if (policy.maxTokens !== undefined) {
    for (const key of tokenParams) {
      const v = out[key]
      if (typeof v === 'number' && v > policy.maxTokens) out[key] = policy.maxTokens
    }
  }
  return out
}

/** The route's message when no model is set anywhere (it quotes nothing from the request). */
export function noModel(factory: string): string {
  return `no model to send: set \`model\` or \`models\` in ${factory}(), set one in \`transform\`, or send \`model\` from the client`
}
