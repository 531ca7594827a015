// The four Nen routes, shared by the Web and Node adapters, which only read and write.

import type { Engine, NenReply } from './engine/types.js'

export type NenAction = 'handshake' | 'rotate' | 'terminate' | 'status'

/** The method each route takes (PROTOCOL.md §3). */
export const ACTION_METHOD: Record<NenAction, 'GET' | 'POST'> = { handshake: 'POST', rotate: 'POST', terminate: 'POST', status: 'GET' }

/**
 * A handshake request is under 2 KB (an ML-KEM-768 key and an X25519 key in base64). It is
 * unauthenticated, so it gets this fixed bound instead of maxBodyBytes: nobody can make the
 * server buffer a megabyte without a session.
 */
export const HANDSHAKE_MAX_BYTES = 64 * 1024

/** Runs one action on the engine: shared by the Web and Node routes, which only read and write. */
export function runAction(engine: Engine, action: NenAction, method: string, url: string, headers: Record<string, string>, body: string | undefined): Promise<NenReply> {
  if (action === 'handshake') return engine.handshake(body ?? '')
  return engine[action]({ method, url, headers, body })
}

