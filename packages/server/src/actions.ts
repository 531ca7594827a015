// The four Nen routes, shared by the Web and Node adapters, which only read and write.

import type { Engine, NenReply } from './engine/types.js'

export type NenAction = 'handshake' | 'rotate' | 'terminate' | 'status'

/** The method each route takes (PROTOCOL.md §3). */
export const ACTION_METHOD: Record<NenAction, 'GET' | 'POST'> = { handshake: 'POST', rotate: 'POST', terminate: 'POST', status: 'GET' }

/**
 * The read bound of a route's body. A handshake request is under 2 KB; it is unauthenticated, so
 * it gets `maxHandshakeBytes` (default 64 KiB) instead of maxBodyBytes: nobody can make the server
 * buffer a megabyte without a session. The engines enforce the same bound themselves.
 */
export function bodyLimit(nen: { maxBodyBytes: number; maxHandshakeBytes: number }, action: NenAction): BodyLimit {
  return action === 'handshake' ? { bytes: nen.maxHandshakeBytes, code: 'ISO-1008' } : { bytes: nen.maxBodyBytes, code: 'ISO-4005' }
}

/** A read bound and the code past it: the engines' own codes, so a read refusal says the same. */
export interface BodyLimit {
  bytes: number
  code: 'ISO-1008' | 'ISO-4005'
}

/** The bound of an encrypted route's body. */
export const requestBodyLimit = (nen: { maxBodyBytes: number }): BodyLimit => ({ bytes: nen.maxBodyBytes, code: 'ISO-4005' })

/**
 * Runs one action on the engine: shared by the Web and Node routes, which only read and write.
 * The lifecycle actions always resolve to the reply to send (plain before authentication, sealed
 * after it); a handshake rejects with its plain error.
 */
export function runAction(engine: Engine, action: NenAction, method: string, url: string, headers: Record<string, string>, body: string | Uint8Array | undefined): Promise<NenReply> {
  if (action === 'handshake') return engine.handshake(body ?? '')
  return engine[action]({ method, url, headers, body })
}
