// @withnen/server as built in this tree (packages/server/dist), and sessions against its engines.

import { nen } from './inputs.mjs'

const dist = new URL('../../packages/server/dist/', import.meta.url)
export const server = await import(new URL('index.mjs', dist).href)
export const serverNode = await import(new URL('node.mjs', dist).href)
export const serverExpress = await import(new URL('express.mjs', dist).href)

/** A configuration on one engine (`'native'` or `'wasm'`), loaded and checked to be that engine. */
export async function nenOn(engine, options = {}) {
  const n = server.createNen({ ...options, engine, onError: () => {} })
  const e = await n.engine()
  const isWasm = typeof e.ready === 'function' && 'setTestNow' in e
  if ((engine === 'wasm') !== isWasm) throw new Error(`asked for the ${engine} engine, got the other one`)
  return n
}

/** A native client session against a configuration's engine, in `mode`. */
export async function sessionOn(n, mode = 'hybrid') {
  const hs = nen.NenClientHandshake.start(mode)
  const reply = await (await n.engine()).handshake(hs.body)
  if (reply.status !== 200) throw new Error(`handshake answered ${reply.status}`)
  return hs.finish(reply.body)
}
