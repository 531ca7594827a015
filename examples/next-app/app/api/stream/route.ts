// POST /api/stream: an encrypted server-sent-event stream, one sealed chunk per token (the way an
// LLM answer would arrive). Here the "model" spells the prompt back, a word at a time.
import { withNenStream } from '@withnen/server'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export const POST = withNenStream(async function* (_req, body) {
  const prompt = typeof (body as { prompt?: unknown } | null)?.prompt === 'string' ? (body as { prompt: string }).prompt : ''
  const words = ['You', 'said:', ...prompt.split(/\s+/).filter(Boolean)]
  for (const [i, word] of words.entries()) {
    await sleep(40)
    yield (i === 0 ? '' : ' ') + word
  }
})
