// ESM entry of @withnen/server-native: the CommonJS entry (nen.js) with its exports named, so
// `import { NenServer } from '@withnen/server-native'` works (Node cannot see names through the
// spread in nen.js's module.exports). __test__/esm.test.js checks this list against nen.js.
import { createRequire } from 'node:module'

const nen = createRequire(import.meta.url)('./nen.js')

export default nen
export const {
  nenCatalogue,
  PROTOCOL_VERSION,
  nenStoreLayout,
  describeNenCode,
  generateIdentity,
  nenProtocolNames,
  OpenedRequest,
  NenClientSession,
  NenClientHandshake,
  NenSignedRequest,
  NenStreamReader,
  NenServer,
  NenStream,
  NenError,
  toNenError,
  errorReply,
} = nen
