// Encrypted SSE streams for node:http: one sealed frame per item, with backpressure and client
// aborts.

import { codeOf } from './errors.js'
import { defaultNen, pathOf } from './config.js'
import type { EngineStream } from './engine/types.js'
import { item, iterate, stop } from './stream.js'
import { openRequest, sendAnswer, sendFailure, signedUrl } from './node-io.js'
import type { NenNodeStreamHandler, NenNodeStreamOptions, NodeRequest, NodeResponse } from './node-types.js'

/** Asks nginx-style proxies not to buffer the stream, which would hold tokens back. */
const SSE_EXTRA = { 'x-accel-buffering': 'no' }

/** Resolves once `res` can take more, or is gone. */
function drained(res: NodeResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve()
    const go = () => {
      res.removeListener('drain', go)
      res.removeListener('close', go)
      resolve()
    }
    res.on('drain', go)
    res.on('close', go)
  })
}

/** Writes the sealed frames of `it` to `res`, honouring backpressure; `gone` stops it. */
async function pump(res: NodeResponse, s: EngineStream, it: AsyncIterator<string | Uint8Array>, gone: AbortSignal, report: (e: unknown) => void): Promise<void> {
  let over = false
  const onGone = () => {
    if (over) return
    over = true
    stop(it)
  }
  if (gone.aborted) onGone()
  else gone.addEventListener('abort', onGone)
  const end = (frame: string) => {
    over = true
    res.end(frame)
  }
  try {
    if (over) return
    res.writeHead(200, { ...s.headers, ...SSE_EXTRA })
    // Headers go out now, not with the first frame: the client sees the stream start at once.
    res.flushHeaders?.()
    for (;;) {
      let frame: string
      try {
        const step = await it.next()
        if (over) return
        if (step.done) return end(s.finish())
        frame = s.chunk(item(step.value))
      } catch (e) {
        if (over) return
        report(e)
        stop(it)
        return end(s.fail(codeOf(e)))
      }
      if (!res.write(frame)) await drained(res)
      if (over) return
    }
  } finally {
    gone.removeEventListener('abort', onGone)
  }
}

/**
 * An encrypted SSE route for node:http: each item the handler yields becomes one sealed frame,
 * then the authenticated end. A throw before streaming starts is answered like `nenNodeHandler`;
 * a throw while streaming ends the stream with its code. When the client goes away `ctx.signal`
 * aborts (already while the handler is starting, so it can cancel its upstream call) and the
 * iterator is returned.
 */
export function withNenStreamNode<TBody = unknown, TReq extends NodeRequest = NodeRequest, TRes extends NodeResponse = NodeResponse>(
  handler: NenNodeStreamHandler<TBody, TReq, TRes>,
  options: NenNodeStreamOptions = {},
): (req: TReq, res: TRes) => Promise<void> {
  return async (req, res) => {
    const nen = options.nen ?? defaultNen()
    const o = await openRequest(nen, req, res)
    if (!o) return
    if (o.opened.method === 'HEAD') return sendAnswer(res, o, null)
    const info = (phase: 'handler' | 'stream') => ({ phase, method: req.method ?? 'GET', path: pathOf(signedUrl(req)) })
    const abort = new AbortController()
    // 'close' also follows a normal end; by then the listener is gone (finally below).
    const onClose = () => abort.abort()
    res.on('close', onClose)
    if (res.destroyed) abort.abort()
    try {
      let it: AsyncIterator<string | Uint8Array>
      let s: EngineStream
      try {
        it = iterate(await handler(o.body as TBody, { req, res, signal: abort.signal, idempotencyKey: o.opened.idempotencyKey }))
      } catch (e) {
        nen.report(e, info('handler'))
        return sendFailure(res, o.engine, o.opened, e)
      }
      try {
        s = o.engine.stream(o.opened, options.padBlock)
      } catch (e) {
        stop(it)
        return sendFailure(res, o.engine, o.opened, e)
      }
      await pump(res, s, it, abort.signal, (e) => nen.report(e, info('stream')))
    } finally {
      res.removeListener('close', onClose)
    }
  }
}
