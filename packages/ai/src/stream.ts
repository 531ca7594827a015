// A stream of decrypted items (chunks or events), shaped like the SDKs' streams: async-iterable
// once, abortable through `controller`, and (for the `.stream()` helpers) folded into the final
// object the provider would have returned without streaming.

import { linkSignal } from './transport.js'

/** An event listener of a stream (`on`, `once`, `off`). */
// biome-ignore lint/suspicious/noExplicitAny: Node's and the DOM's listener signatures both fit
export type Listener = (...args: any[]) => void

/** Folds stream items into a snapshot of the final result. */
export interface Accumulator<T, F> {
  add(item: T): void
  /** The snapshot so far (undefined before the first item that starts one). */
  snapshot(): F | undefined
}

/**
 * What every stream shares: the request starts when the stream is created; items are buffered
 * until read, and read once (`items()`); `abort()`, or leaving a read early, cancels the
 * request, which also cancels the provider call behind it. Subclasses choose what iterating
 * them yields.
 */
export class SecureStreamBase<T> {
  /** Aborting it cancels the request (the `controller` of the SDKs' streams). */
  readonly controller: AbortController

  private readonly buffer: T[] = []
  private wake: (() => void) | undefined
  private ended = false
  private failure: { error: unknown } | undefined
  private consumed = false
  private readonly listeners = new Map<string, Set<Listener>>()
  /** Settles when the stream has ended (resolves) or failed (rejects). */
  protected readonly finished: Promise<void>

  constructor(source: (signal: AbortSignal) => AsyncIterable<T>, signal?: AbortSignal | null) {
    this.controller = new AbortController()
    linkSignal(this.controller, signal)
    this.finished = this.pump(source)
    // Nobody may ever wait on it: failures are reported through iteration and the final helpers.
    this.finished.catch(() => {})
  }

  private async pump(source: (signal: AbortSignal) => AsyncIterable<T>): Promise<void> {
    // Let the constructor of a subclass finish before the first item is handled.
    await Promise.resolve()
    try {
      for await (const item of source(this.controller.signal)) {
        this.onItem(item)
        this.buffer.push(item)
        this.notify()
      }
      this.ended = true
      this.emit('end')
      this.notify()
    } catch (error) {
      this.failure = { error }
      this.ended = true
      this.emit('error', error)
      this.notify()
      throw error
    }
  }

  private notify() {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  /** Subclasses fold the item into their snapshot and emit their events. */
  protected onItem(_item: T): void {}

  /** Calls `listener` on `event` ('end', 'error', and the subclass's events). */
  on(event: string, listener: Listener): this {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(listener)
    return this
  }

  /** Removes a listener added with `on`. */
  off(event: string, listener: Listener): this {
    this.listeners.get(event)?.delete(listener)
    return this
  }

  protected emit(event: string, ...args: unknown[]): void {
    for (const listener of this.listeners.get(event) ?? []) listener(...args)
  }

  /** Cancels the request (and the provider call behind it). */
  abort(): void {
    this.controller.abort()
  }

  /** Resolves once the stream has ended; rejects with its error. */
  async done(): Promise<void> {
    await this.finished
  }

  /** The items, once: a second read (of any view) throws. Leaving it early cancels the request. */
  protected async *items(): AsyncGenerator<T, void, undefined> {
    if (this.consumed) throw new Error('Cannot iterate over a consumed stream')
    this.consumed = true
    let complete = false
    try {
      for (;;) {
        if (this.buffer.length > 0) {
          yield this.buffer.shift() as T
          continue
        }
        if (this.failure) throw this.failure.error
        if (this.ended) break
        await new Promise<void>((resolve) => (this.wake = resolve))
      }
      complete = true
    } finally {
      // Leaving the loop early cancels the request, as with the SDKs' streams.
      if (!complete) this.controller.abort()
    }
  }
}

/**
 * An async-iterable stream of items decrypted from one encrypted response (what `create({
 * stream: true })` resolves to). Iterate it once; break out of the loop or call `abort()` to
 * cancel the request, which also cancels the provider call behind it.
 */
export class SecureStream<T> extends SecureStreamBase<T> implements AsyncIterable<T> {
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.items()
  }
}

/** A stream that also folds its items into the final object (`.stream()` helpers). */
export class AccumulatingStream<T, F> extends SecureStreamBase<T> {
  constructor(
    source: (signal: AbortSignal) => AsyncIterable<T>,
    signal: AbortSignal | null | undefined,
    protected readonly acc: Accumulator<T, F>,
  ) {
    super(source, signal)
  }

  protected override onItem(item: T): void {
    this.acc.add(item)
    this.onAccumulated(item, this.acc.snapshot())
  }

  /** Subclasses emit their events once the snapshot includes `item`. */
  protected onAccumulated(_item: T, _snapshot: F | undefined): void {}

  /** The final object, once the stream has ended. */
  protected async final(): Promise<F> {
    await this.finished
    const result = this.acc.snapshot()
    if (result === undefined) throw new Error('stream ended without producing a result')
    return result
  }
}
