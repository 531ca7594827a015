// A NenStoreAdapter over a Map, on the one-record layout (PROTOCOL.md §9): what Redis holds,
// in this process, for tests that share one store between instances and engines.

export function recordAdapter() {
  const data = new Map() // key → { entry, retiredAt, nonces: Map<nonce, until>, until }
  const live = (k) => {
    const r = data.get(k)
    if (r && r.until <= Date.now()) data.delete(k)
    return data.get(k)
  }
  return {
    data,
    async load(k) {
      const r = live(k)
      return r ? { entry: r.entry, retiredAt: r.retiredAt } : null
    },
    async put(k, entry, ttl) {
      data.set(k, { entry, retiredAt: null, nonces: new Map(), until: Date.now() + ttl })
    },
    async delete(k) {
      data.delete(k)
    },
    async retire(k, at, ttl) {
      const r = live(k)
      if (!r) return 'gone'
      if (r.retiredAt !== null) return 'rotated'
      r.retiredAt = at
      r.until = Math.min(r.until, Date.now() + ttl)
      return 'ok'
    },
    async recordNonce(k, n, now, until) {
      const r = live(k)
      if (!r) return 'gone'
      if ((r.nonces.get(n) ?? 0) > now) return 'replay'
      r.nonces.set(n, until)
      return 'ok'
    },
  }
}
