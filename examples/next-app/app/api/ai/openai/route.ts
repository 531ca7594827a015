// The chat page's OpenAI route. The Nen routes (app/api/nen/[action]/route.ts) run the handshake.
//
// The browser's params are decrypted, cut down to the allow-list (model, messages, max_tokens,
// temperature, … never tools, store, metadata or billing options unless you allow them), and
// sent to OpenAI with the server's key; the answer goes back sealed, or re-streamed one sealed,
// padded frame per chunk. OPENAI_API_KEY stays on the server; OPENAI_BASE_URL (read by the SDK)
// points it at any OpenAI-compatible server, e.g. a local stand-in for tests.
import { withSecureAI, openAIProvider } from '@withnen/ai/server'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

export const POST = withSecureAI(
  openAIProvider({
    apiKey: process.env.OPENAI_API_KEY,
    // The page may pick one of these; anything else becomes the first.
    models: ['gpt-4o-mini', 'gpt-4o'],
    // Upper bound on max_tokens / max_completion_tokens, whatever the page asks.
    maxTokens: 2048,
  }),
)
