// Local stand-ins for the providers' HTTP APIs, on loopback (node:http): an OpenAI-compatible
// `POST /v1/chat/completions` and an Anthropic-compatible `POST /v1/messages`, each with
// `stream: false` (one JSON body) and `stream: true` (server-sent events in the wire formats the
// official SDKs parse). The model name picks a scenario, so tests can make the provider fail,
// stall or cut its stream. Every request is recorded, with when its connection closed.

import http from 'node:http'

/** Planted in every upstream error body: it must never reach the browser or the Nen wire. */
export const UPSTREAM_SECRET = 'sk-UPSTREAM-LEAK-7f3a9c0e-do-not-forward'
/** The reply, token by token: distinctive words to look for on the wire. */
export const REPLY_TOKENS = ['The', ' answer', ' is', ' ZEBRA', 'QUARTZ', ' forty', '-two', '.']
export const REPLY = REPLY_TOKENS.join('')

const sse = (res) => res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      } catch (e) {
        reject(e)
      }
    })
    req.on('error', reject)
  })
}

function sendJson(res, status, value) {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** The provider's own error body, with the secret in it (as real ones can quote keys and prompts). */
const openAIErrorBody = () => ({ error: { message: `Incorrect API key provided: ${UPSTREAM_SECRET}`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } })
const anthropicErrorBody = () => ({ type: 'error', error: { type: 'api_error', message: `Internal error while handling ${UPSTREAM_SECRET}` } })

// ---------------------------------------------------------------- OpenAI

const openAIUsage = (body) => ({
  prompt_tokens: JSON.stringify(body.messages ?? []).length,
  completion_tokens: REPLY_TOKENS.length,
  total_tokens: JSON.stringify(body.messages ?? []).length + REPLY_TOKENS.length,
})

function openAICompletion(body) {
  const tool = body.model === 'gpt-tool'
  return {
    id: 'chatcmpl-test-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: body.model,
    system_fingerprint: 'fp_test',
    choices: [
      {
        index: 0,
        message: tool
          ? { role: 'assistant', content: null, refusal: null, annotations: [], tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"city":"Oslo"}' } }] }
          : { role: 'assistant', content: REPLY, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: tool ? 'tool_calls' : 'stop',
      },
    ],
    usage: openAIUsage(body),
  }
}

function openAIChunk(body, choice, extra = {}) {
  return { id: 'chatcmpl-test-1', object: 'chat.completion.chunk', created: 1_700_000_000, model: body.model, system_fingerprint: 'fp_test', choices: choice ? [choice] : [], ...extra }
}

async function openAIStream(req, res, body, log) {
  sse(res)
  const write = (v) => res.write(`data: ${JSON.stringify(v)}\n\n`)
  write(openAIChunk(body, { index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }))
  if (body.model === 'gpt-tool') {
    write(openAIChunk(body, { index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] }, logprobs: null, finish_reason: null }))
    for (const part of ['{"ci', 'ty":"', 'Oslo"}']) write(openAIChunk(body, { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: part } }] }, logprobs: null, finish_reason: null }))
    write(openAIChunk(body, { index: 0, delta: {}, logprobs: null, finish_reason: 'tool_calls' }))
    res.write('data: [DONE]\n\n')
    return res.end()
  }
  const slow = body.model === 'gpt-slow'
  const count = slow ? 400 : REPLY_TOKENS.length
  for (let i = 0; i < count; i++) {
    if (res.destroyed) return
    write(openAIChunk(body, { index: 0, delta: { content: REPLY_TOKENS[i % REPLY_TOKENS.length] }, logprobs: null, finish_reason: null }))
    log.sent++
    if (slow) await sleep(25)
    if (i === 2 && body.model === 'gpt-cut') return sleep(30).then(() => res.socket.destroy()) // the connection drops mid-stream, after what was written got out
    // (The pause lets what was written leave as its own packets, so the SDK yields it before it
    // sees the end: the tokens before a failure are then always the same three.)
    if (i === 2 && body.model === 'gpt-early-end') return sleep(30).then(() => res.end()) // a clean end, but no finish and no [DONE]
    if (i === 2 && body.model === 'gpt-error-event') {
      await sleep(30)
      write(openAIErrorBody()) // an in-band error, as the API sends when it fails mid-stream
      return res.end()
    }
  }
  write(openAIChunk(body, { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }))
  if (body.stream_options?.include_usage) write(openAIChunk(body, null, { usage: openAIUsage(body) }))
  res.write('data: [DONE]\n\n')
  res.end()
}

// ---------------------------------------------------------------- Anthropic

function anthropicUsage(body, output) {
  return {
    input_tokens: JSON.stringify(body.messages ?? []).length,
    output_tokens: output,
    cache_creation_input_tokens: null,
    cache_read_input_tokens: null,
    cache_creation: null,
    inference_geo: null,
    output_tokens_details: null,
    server_tool_use: null,
    service_tier: 'standard',
    speed: null,
  }
}

function anthropicMessage(body, content, stop, usage) {
  return { id: 'msg_test_1', type: 'message', role: 'assistant', model: body.model, content, container: null, diagnostics: null, stop_details: null, stop_reason: stop, stop_sequence: null, usage }
}

async function anthropicStream(req, res, body, log) {
  sse(res)
  const event = (type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`)
  event('message_start', { message: anthropicMessage(body, [], null, anthropicUsage(body, 1)) })
  event('content_block_start', { index: 0, content_block: { type: 'text', text: '', citations: null } })
  event('ping', {})
  const slow = body.model === 'claude-slow'
  const count = slow ? 400 : REPLY_TOKENS.length
  for (let i = 0; i < count; i++) {
    if (res.destroyed) return
    event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: REPLY_TOKENS[i % REPLY_TOKENS.length] } })
    log.sent++
    if (slow) await sleep(25)
    if (i === 2 && body.model === 'claude-cut') return sleep(30).then(() => res.socket.destroy())
    if (i === 2 && body.model === 'claude-error-event') {
      await sleep(30)
      res.write(`event: error\ndata: ${JSON.stringify(anthropicErrorBody())}\n\n`) // the API's mid-stream error event
      return res.end()
    }
  }
  event('content_block_stop', { index: 0 })
  if (body.model === 'claude-tool') {
    event('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {}, caller: { type: 'direct' } } })
    for (const part of ['{"ci', 'ty": "Os', 'lo"}']) event('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: part } })
    event('content_block_stop', { index: 1 })
  }
  event('message_delta', {
    delta: { stop_reason: body.model === 'claude-tool' ? 'tool_use' : 'end_turn', stop_sequence: null, stop_details: null, container: null },
    usage: { ...anthropicUsage(body, REPLY_TOKENS.length), input_tokens: null },
  })
  event('message_stop', {})
  res.end()
}

// ---------------------------------------------------------------- server

/** Answers only after 10 s (a slow model), unless the connection is closed first. */
function hang(res, answer) {
  const t = setTimeout(() => !res.destroyed && answer(), 10_000)
  res.on('close', () => clearTimeout(t))
}

export async function startUpstream() {
  const requests = [] // { path, headers, body, closed: Promise, closedAt }
  const server = http.createServer(async (req, res) => {
    let body
    try {
      body = await readJson(req)
    } catch {
      return sendJson(res, 400, { error: { message: 'bad json' } })
    }
    let onClose
    const log = { path: req.url, headers: req.headers, body, sent: 0, closedEarly: false, closed: new Promise((r) => (onClose = r)) }
    requests.push(log)
    res.on('close', () => {
      log.closedEarly = !res.writableFinished
      onClose()
    })
    const model = String(body.model ?? '')
    if (req.url === '/v1/chat/completions') {
      if (req.headers.authorization !== 'Bearer sk-test-openai') return sendJson(res, 401, openAIErrorBody())
      if (model === 'gpt-fail-500') return sendJson(res, 500, openAIErrorBody())
      if (model === 'gpt-rate-limit') return sendJson(res, 429, openAIErrorBody())
      if (model === 'gpt-hang') return hang(res, () => sendJson(res, 200, openAICompletion(body)))
      return body.stream ? openAIStream(req, res, body, log) : sendJson(res, 200, openAICompletion(body))
    }
    if (req.url === '/v1/messages') {
      // The SDK sends the key as `x-api-key` or, in recent versions, as a bearer token.
      const key = req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer /, '')
      if (key !== 'sk-test-anthropic' || !req.headers['anthropic-version']) return sendJson(res, 401, anthropicErrorBody())
      if (model === 'claude-fail-500') return sendJson(res, 500, anthropicErrorBody())
      if (model === 'claude-hang') return hang(res, () => sendJson(res, 200, anthropicMessage(body, [{ type: 'text', text: REPLY, citations: null }], 'end_turn', anthropicUsage(body, 1))))
      if (body.stream) return anthropicStream(req, res, body, log)
      const content = [{ type: 'text', text: REPLY, citations: null }]
      return sendJson(res, 200, anthropicMessage(body, content, 'end_turn', anthropicUsage(body, REPLY_TOKENS.length)))
    }
    sendJson(res, 404, { error: { message: 'not found' } })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address()
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      server.closeAllConnections()
      return new Promise((r) => server.close(r))
    },
  }
}
