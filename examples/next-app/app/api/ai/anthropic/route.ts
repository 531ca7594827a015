// The chat page's Anthropic route (see ../openai/route.ts).
// ANTHROPIC_API_KEY stays on the server; ANTHROPIC_BASE_URL (read by the SDK) points it at any
// Anthropic-compatible server.
import { withSecureAI, anthropicProvider } from '@withnen/ai/server'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

export const POST = withSecureAI(
  anthropicProvider({
    apiKey: process.env.ANTHROPIC_API_KEY,
    models: ['claude-haiku-4-5', 'claude-sonnet-4-5'],
    maxTokens: 2048,
  }),
  {
    // Server-side additions the page cannot change or see.
    transform: (params) => ({ ...params, system: 'You are a concise assistant.' }),
  },
)
