'use client'

// The chat page (/chat): OpenAI or Anthropic through the app's own backend (app/api/ai/*). Prompts and answers travel encrypted between this page and the
// app's backend (Nen: X25519 + ML-KEM-768 handshake, sealed requests, padded sealed stream
// frames); the Network tab shows only {"ct":…} envelopes and `data: <base64>` frames. The
// backend calls the provider over ordinary HTTPS: the provider sees the prompt.
//
// Needs: npm install @withnen/ai openai @anthropic-ai/sdk (the SDKs run on the server only; the
// page uses their types).

import { useCallback, useRef, useState } from 'react'
import { createSecureAnthropic, createSecureOpenAI, NenError, type SecureAnthropic, type SecureOpenAI } from '@withnen/ai'

type Provider = 'openai' | 'anthropic'
interface Turn {
  role: 'user' | 'assistant'
  content: string
}

const MODELS: Record<Provider, string> = { openai: 'gpt-4o-mini', anthropic: 'claude-haiku-4-5' }

export default function ChatPage() {
  // Created on first use: the page is also rendered on the server, where there is no `location`.
  const clients = useRef<{ openai: SecureOpenAI; anthropic: SecureAnthropic } | null>(null)
  const abort = useRef<AbortController | null>(null)
  const [provider, setProvider] = useState<Provider>('openai')
  const [turns, setTurns] = useState<Turn[]>([])
  const [input, setInput] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')

  const connect = useCallback(() => {
    if (!clients.current) {
      const openai = createSecureOpenAI({ baseUrl: window.location.origin })
      // One Nen session for both providers.
      clients.current = { openai, anthropic: createSecureAnthropic({ client: openai.nen }) }
    }
    return clients.current
  }, [])

  const send = useCallback(async () => {
    const prompt = input.trim()
    if (!prompt || busy) return
    const history: Turn[] = [...turns, { role: 'user', content: prompt }]
    setTurns([...history, { role: 'assistant', content: '' }])
    setInput('')
    setError('')
    setBusy(true)
    const controller = new AbortController()
    abort.current = controller
    // Each token replaces the last turn's text as it arrives.
    const show = (text: string) => setTurns([...history, { role: 'assistant', content: text }])
    try {
      const { openai, anthropic } = connect()
      if (provider === 'openai') {
        const stream = openai.chat.completions.stream({ model: MODELS.openai, messages: history }, { signal: controller.signal })
        stream.on('content', (_delta: string, snapshot: string) => show(snapshot))
        await stream.finalChatCompletion()
      } else {
        const stream = anthropic.messages.stream({ model: MODELS.anthropic, max_tokens: 1024, messages: history }, { signal: controller.signal })
        stream.on('text', (_delta: string, snapshot: string) => show(snapshot))
        await stream.finalMessage()
      }
    } catch (e) {
      if ((e as Error)?.name === 'AbortError') setError('stopped')
      // Provider failures arrive as codes only (ISO-9000 / ISO-7002, with the HTTP status):
      // the provider's own message never leaves the backend.
      else if (e instanceof NenError) setError(`${e.code} (HTTP ${e.status}) ${e.message}`)
      else setError(String(e))
    } finally {
      abort.current = null
      setBusy(false)
    }
  }, [busy, connect, input, provider, turns])

  return (
    <main style={{ maxWidth: 720, margin: '2rem auto', fontFamily: 'system-ui, sans-serif' }}>
      <h1>Encrypted chat</h1>
      <p>
        Prompts and tokens are encrypted between this page and the backend. Provider:{' '}
        <select value={provider} onChange={(e) => setProvider(e.target.value as Provider)} disabled={busy} data-testid="provider">
          <option value="openai">OpenAI ({MODELS.openai})</option>
          <option value="anthropic">Anthropic ({MODELS.anthropic})</option>
        </select>
      </p>
      <ol data-testid="turns" style={{ listStyle: 'none', padding: 0 }}>
        {turns.map((t, i) => (
          <li key={i} data-role={t.role} style={{ margin: '0.5rem 0', whiteSpace: 'pre-wrap' }}>
            <strong>{t.role === 'user' ? 'You' : 'Assistant'}:</strong> {t.content}
          </li>
        ))}
      </ol>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          void send()
        }}
        style={{ display: 'flex', gap: '0.5rem' }}
      >
        <input value={input} onChange={(e) => setInput(e.target.value)} placeholder="Ask something" style={{ flex: 1 }} data-testid="prompt" />
        {busy ? (
          <button type="button" onClick={() => abort.current?.abort()} data-testid="stop">
            Stop
          </button>
        ) : (
          <button type="submit" data-testid="send">
            Send
          </button>
        )}
      </form>
      {error && (
        <p role="alert" data-testid="error">
          {error}
        </p>
      )}
    </main>
  )
}
