'use client'

// Every call below goes through @withnen/client: the first one runs a post-quantum handshake
// (X25519 + ML-KEM-768) with /api/nen/handshake, then each request and response body is
// encrypted and signed. The Network tab shows only {"ct":...} envelopes.

import { useCallback, useEffect, useRef, useState } from 'react'
import { type NenClient, NenError, createNenFetch, createNenStream, type NenFetch, type NenStreamFn } from '@withnen/client'

interface Item {
  id: string
  name: string
  done: boolean
}

interface Nen {
  client: NenClient
  nenFetch: NenFetch
  nenStream: NenStreamFn
}

export default function Home() {
  const nen = useRef<Nen | null>(null)
  const [sessionId, setSessionId] = useState<string>('none')
  const [rotations, setRotations] = useState(0)
  const [sessionStatus, setSessionStatus] = useState('')
  const [name, setName] = useState('')
  const [items, setItems] = useState<Item[]>([])
  const [last, setLast] = useState('')
  const [prompt, setPrompt] = useState('')
  const [streamText, setStreamText] = useState('')
  const [streamState, setStreamState] = useState('idle')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(0)
  const [completed, setCompleted] = useState(0)
  const [hydrated, setHydrated] = useState(false)
  useEffect(() => setHydrated(true), [])

  // Created on first use: the page is also rendered on the server, where there is no `location`.
  const connect = useCallback((): Nen => {
    if (!nen.current) {
      const nenFetch = createNenFetch(window.location.origin)
      nen.current = { client: nenFetch.client, nenFetch, nenStream: createNenStream(nenFetch) }
    }
    return nen.current
  }, [])

  // Runs one action, records its outcome and the session id, and reports failures on the page.
  const run = useCallback(
    // biome-ignore lint/suspicious/noConfusingVoidType: actions either report a line or nothing
    async (what: string, action: (n: Nen) => Promise<string | void>) => {
      setBusy((b) => b + 1)
      setError('')
      try {
        const n = connect()
        const outcome = await action(n)
        if (outcome) setLast(`${what}: ${outcome}`)
        setSessionId(n.client.sessionId ?? 'none')
      } catch (e) {
        setError(e instanceof NenError ? `${what}: ${e.code} ${e.message}` : `${what}: ${String(e)}`)
      } finally {
        setBusy((b) => b - 1)
        setCompleted((c) => c + 1)
      }
    },
    [connect],
  )

  const request = async (n: Nen, method: string, path: string, body?: unknown) => {
    const res = await n.nenFetch(path, { method, body })
    const text = method === 'HEAD' ? '' : await res.text()
    return { status: res.status, text, json: text ? JSON.parse(text) : null }
  }

  const list = () =>
    run('list', async (n) => {
      const r = await request(n, 'GET', '/api/items')
      setItems(r.json.items)
      return `${r.status} (${r.json.items.length} items)`
    })

  const create = () =>
    run('create', async (n) => {
      const r = await request(n, 'POST', '/api/items', { name })
      if (r.status === 201) setItems((xs) => [...xs, r.json])
      setName('')
      return `${r.status} ${r.text}`
    })

  const replace = (id: string) =>
    run('update', async (n) => {
      const r = await request(n, 'PUT', `/api/items/${id}`, { name })
      if (r.status === 200) setItems((xs) => xs.map((x) => (x.id === id ? r.json : x)))
      setName('')
      return `${r.status} ${r.text}`
    })

  const toggle = (item: Item) =>
    run('toggle', async (n) => {
      const r = await request(n, 'PATCH', `/api/items/${item.id}`, { done: !item.done })
      if (r.status === 200) setItems((xs) => xs.map((x) => (x.id === item.id ? r.json : x)))
      return `${r.status} ${r.text}`
    })

  const fetchOne = (id: string) =>
    run('get', async (n) => {
      const r = await request(n, 'GET', `/api/items/${id}`)
      return `${r.status} ${r.text}`
    })

  const exists = (id: string) =>
    run('head', async (n) => {
      const r = await request(n, 'HEAD', `/api/items/${id}`)
      return `${r.status}`
    })

  const remove = (id: string) =>
    run('delete', async (n) => {
      const r = await request(n, 'DELETE', `/api/items/${id}`)
      if (r.status === 200) setItems((xs) => xs.filter((x) => x.id !== id))
      return `${r.status} ${r.text}`
    })

  const stream = () =>
    run('stream', async (n) => {
      setStreamText('')
      setStreamState('streaming')
      let text = ''
      try {
        for await (const chunk of n.nenStream('/api/stream', { body: { prompt } })) {
          text += chunk
          setStreamText(text)
        }
        setStreamState('done')
      } catch (e) {
        setStreamState('failed')
        throw e
      }
    })

  const rotate = () =>
    run('rotate', async (n) => {
      const before = n.client.sessionId
      await n.client.rotate()
      setRotations((r) => r + 1)
      return `${before} → ${n.client.sessionId}`
    })

  const status = () =>
    run('status', async (n) => {
      const s = await n.client.status()
      setSessionStatus(JSON.stringify(s))
    })

  const terminate = () =>
    run('terminate', async (n) => {
      await n.client.terminate()
      setSessionStatus('')
      return 'session ended, keys wiped'
    })

  return (
    <main data-testid="app" data-hydrated={hydrated ? 'yes' : 'no'} data-busy={busy} data-completed={completed}>
      <h1>Nen + Next.js</h1>
      <p>
        Every request and response body on this page is encrypted end to end between the browser and the route handler (X25519 + ML-KEM-768, ChaCha20-Poly1305). Open the Network tab: only envelopes
        cross the wire. An encrypted chat with OpenAI or Anthropic models is at <a href="/chat">/chat</a>.
      </p>

      <section>
        <h2>Session</h2>
        <div>
          Session id: <code data-testid="session-id">{sessionId}</code> · rotations: <span data-testid="rotations">{rotations}</span>
        </div>
        <button type="button" data-testid="status-button" onClick={status}>
          Status
        </button>
        <button type="button" data-testid="rotate-button" onClick={rotate}>
          Rotate keys
        </button>
        <button type="button" data-testid="terminate-button" onClick={terminate}>
          End session
        </button>
        <pre data-testid="session-status">{sessionStatus}</pre>
      </section>

      <section>
        <h2>Items (encrypted CRUD)</h2>
        <input data-testid="name-input" placeholder="item name" value={name} onChange={(e) => setName(e.target.value)} />
        <button type="button" data-testid="create-button" onClick={create} disabled={!name}>
          Create
        </button>
        <button type="button" data-testid="list-button" onClick={list}>
          List
        </button>
        <ul data-testid="item-list">
          {items.map((item) => (
            <li key={item.id} data-testid={`item-${item.id}`}>
              <span data-testid={`item-name-${item.id}`} className={item.done ? 'done' : ''}>
                {item.name}
              </span>{' '}
              <button type="button" data-testid={`get-${item.id}`} onClick={() => fetchOne(item.id)}>
                Get
              </button>
              <button type="button" data-testid={`head-${item.id}`} onClick={() => exists(item.id)}>
                Exists?
              </button>
              <button type="button" data-testid={`rename-${item.id}`} onClick={() => replace(item.id)} disabled={!name}>
                Rename to input
              </button>
              <button type="button" data-testid={`toggle-${item.id}`} onClick={() => toggle(item)}>
                {item.done ? 'Undo' : 'Done'}
              </button>
              <button type="button" data-testid={`delete-${item.id}`} onClick={() => remove(item.id)}>
                Delete
              </button>
            </li>
          ))}
        </ul>
        <div>
          Last: <code data-testid="last-result">{last}</code>
        </div>
      </section>

      <section>
        <h2>Stream (encrypted server-sent events)</h2>
        <input data-testid="prompt-input" placeholder="prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        <button type="button" data-testid="stream-button" onClick={stream}>
          Stream
        </button>{' '}
        <span data-testid="stream-state">{streamState}</span>
        <pre data-testid="stream-output">{streamText}</pre>
      </section>

      <p className="error" data-testid="error">
        {error}
      </p>
    </main>
  )
}
