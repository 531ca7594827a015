// The published shape: both entry points as ESM and CJS with types, through the exports map;
// no provider SDK code in the browser bundle; the declarations type-check a consumer.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, symlinkSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startUpstream, REPLY } from './support/upstream.mjs'

const require = createRequire(import.meta.url)
const root = new URL('..', import.meta.url).pathname
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'))

const CLIENT = ['createSecureOpenAI', 'createSecureAnthropic', 'SecureStream', 'SecureChatCompletionStream', 'SecureMessageStream', 'SecureAIError', 'NenError', 'NenClient']
const SERVER = ['withSecureAI', 'openAIProvider', 'anthropicProvider', 'OPENAI_ALLOWED_PARAMS', 'ANTHROPIC_ALLOWED_PARAMS', 'UpstreamError', 'applyPolicy']

test('exports map: types, import and require for both entry points', () => {
  for (const [entry, file] of [
    ['.', 'index'],
    ['./server', 'server'],
  ]) {
    // .d.ts for import, .d.cts for require: one file for both is "masquerading as ESM" to CJS.
    assert.deepEqual(pkg.exports[entry], { import: { types: `./dist/${file}.d.ts`, default: `./dist/${file}.mjs` }, require: { types: `./dist/${file}.d.cts`, default: `./dist/${file}.cjs` } })
    for (const cond of Object.values(pkg.exports[entry])) for (const f of Object.values(cond)) assert.ok(existsSync(path.join(root, f)), f)
  }
})

test('ESM and CJS builds export the same API', async () => {
  const esmClient = await import('@withnen/ai')
  const esmServer = await import('@withnen/ai/server')
  const cjsClient = require('@withnen/ai')
  const cjsServer = require('@withnen/ai/server')
  for (const name of CLIENT) {
    assert.equal(typeof esmClient[name], 'function', `esm ${name}`)
    assert.equal(typeof cjsClient[name], 'function', `cjs ${name}`)
  }
  for (const name of SERVER) {
    assert.ok(esmServer[name] !== undefined, `esm ${name}`)
    assert.ok(cjsServer[name] !== undefined, `cjs ${name}`)
  }
  assert.deepEqual(cjsServer.OPENAI_ALLOWED_PARAMS, esmServer.OPENAI_ALLOWED_PARAMS)
  // The CJS server entry builds working providers (the SDK is loaded with require()).
  const p = cjsServer.openAIProvider({ apiKey: 'k', model: 'm' })
  assert.deepEqual(p.prepare({ model: 'x', messages: [], tools: [] }), { model: 'm', messages: [] })
})

test('the CJS server entry loads each SDK and calls the provider', async () => {
  const { openAIProvider, anthropicProvider } = require('@withnen/ai/server')
  const up = await startUpstream()
  try {
    const signal = new AbortController().signal
    const o = openAIProvider({ apiKey: 'sk-test-openai', baseURL: `${up.url}/v1`, maxRetries: 0 })
    assert.equal((await o.create(o.prepare({ model: 'gpt-test', messages: [] }), signal)).choices[0].message.content, REPLY)
    const a = anthropicProvider({ apiKey: 'sk-test-anthropic', baseURL: up.url, maxRetries: 0 })
    const events = []
    for await (const e of a.stream(a.prepare({ model: 'claude-test', messages: [] }), signal)) events.push(e.type)
    assert.equal(events.at(-1), 'message_stop')
  } finally {
    await up.close()
  }
})

test('the browser bundle carries no provider SDK and no server code', () => {
  for (const f of ['dist/index.mjs', 'dist/index.cjs']) {
    const code = readFileSync(`${root}${f}`, 'utf8')
    assert.doesNotMatch(code, /from ["'](openai|@anthropic-ai\/sdk)/)
    assert.doesNotMatch(code, /require\(["'](openai|@anthropic-ai\/sdk)/)
    assert.doesNotMatch(code, /@withnen\/server/)
    assert.match(code, /@withnen\/client/)
  }
  // The server entry loads each SDK only when its provider is first used.
  const server = readFileSync(`${root}dist/server.mjs`, 'utf8')
  assert.match(server, /import\(["']openai["']\)/)
  assert.match(server, /import\(["']@anthropic-ai\/sdk["']\)/)
})

test('the declarations type-check a consumer (SDK-shaped overloads)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nen-ai-types-'))
  try {
    mkdirSync(path.join(dir, 'node_modules', '@withnen'), { recursive: true })
    const nm = path.join(root, '..', '..', 'node_modules')
    symlinkSync(root, path.join(dir, 'node_modules', '@withnen', 'ai'))
    for (const dep of ['@withnen/client', '@withnen/server', 'openai', '@anthropic-ai/sdk']) {
      mkdirSync(path.dirname(path.join(dir, 'node_modules', dep)), { recursive: true })
      if (!existsSync(path.join(dir, 'node_modules', dep))) symlinkSync(path.join(nm, dep), path.join(dir, 'node_modules', dep))
    }
    writeFileSync(
      path.join(dir, 'consumer.ts'),
      `
import { createSecureOpenAI, createSecureAnthropic, type ChatCompletion, type ChatCompletionChunk, type Message, type RawMessageStreamEvent } from '@withnen/ai'
import { withSecureAI, openAIProvider, anthropicProvider } from '@withnen/ai/server'

export const POST: (req: Request) => Promise<Response> = withSecureAI(openAIProvider({ apiKey: 'k', models: ['gpt-4o-mini'] }), { padBlock: 32 })
export const POST2 = withSecureAI(anthropicProvider({ apiKey: 'k', maxTokens: 1024 }))

export async function run(signal: AbortSignal) {
  const openai = createSecureOpenAI({ baseUrl: 'https://app.example' })
  const completion: ChatCompletion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, { signal })
  const text: string | null = completion.choices[0].message.content
  for await (const chunk of await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [], stream: true })) {
    const c: ChatCompletionChunk = chunk
    void c.choices[0]?.delta.content
  }
  const s = openai.chat.completions.stream({ model: 'gpt-4o-mini', messages: [] })
  const final: ChatCompletion = await s.finalChatCompletion()

  const anthropic = createSecureAnthropic({ baseUrl: 'https://app.example', path: '/api/claude' })
  const message: Message = await anthropic.messages.create({ model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
  for await (const event of await anthropic.messages.create({ model: 'claude-x', max_tokens: 10, messages: [], stream: true })) {
    const e: RawMessageStreamEvent = event
    if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') void e.delta.text
  }
  const ms = anthropic.messages.stream({ model: 'claude-x', max_tokens: 10, messages: [] })
  ms.on('text', (t: string) => void t)
  const m2: Message = await ms.finalMessage()
  const t2: string = await ms.finalText()
  // @ts-expect-error a non-stream create does not resolve to a stream
  for await (const x of await openai.chat.completions.create({ model: 'm', messages: [] })) void x
  return [text, final, message, m2, t2]
}
`,
    )
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM', 'DOM.Iterable'], strict: true, noEmit: true, skipLibCheck: true, types: [] },
        files: ['consumer.ts'],
      }),
    )
    const tsc = path.join(nm, 'typescript', 'bin', 'tsc')
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' })
    } catch (e) {
      assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
