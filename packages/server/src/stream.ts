// What a stream handler may return, read one item at a time, and how each item is sealed.

import { NenError } from './errors.js'

/** A stream handler's result: each item becomes one sealed SSE frame. */
export type NenStreamSource = AsyncIterable<string | Uint8Array> | ReadableStream<string | Uint8Array>

/** The items of `source`; `return()` stops the producer (a generator's `finally` runs). */
export function iterate(source: NenStreamSource): AsyncIterator<string | Uint8Array> {
  if (typeof (source as ReadableStream).getReader === 'function') {
    const reader = (source as ReadableStream<string | Uint8Array>).getReader()
    return {
      next: () => reader.read() as Promise<IteratorResult<string | Uint8Array>>,
      return: async () => {
        await reader.cancel()
        return { done: true, value: undefined }
      },
    }
  }
  const from = (source as AsyncIterable<string | Uint8Array>)?.[Symbol.asyncIterator]
  if (typeof from !== 'function') throw new TypeError('a stream handler must return an AsyncIterable or a ReadableStream')
  return from.call(source)
}

/** Stops the producer without waiting for it: a generator awaiting a slow upstream may take a while. */
export function stop(it: AsyncIterator<unknown>): void {
  it.return?.().then(undefined, () => {})
}

/** Rejects items the protocol cannot carry; a string is the common case, checked first. */
export function item(value: unknown): string | Uint8Array {
  if (typeof value === 'string' || value instanceof Uint8Array) return value
  throw new NenError('ISO-9000', { message: 'stream items must be strings or Uint8Arrays' })
}
