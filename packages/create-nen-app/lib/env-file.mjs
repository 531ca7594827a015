// .env.local: a fresh NEN_WRAPPING_KEY, never replacing one that is there.

import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

export const KEY_NAME = 'NEN_WRAPPING_KEY'

const block = () =>
  [
    '# Nen: wraps session keys before they reach a shared session store (Redis, Upstash).',
    '# 32 random bytes, base64. Keep it secret and the same on every instance.',
    `${KEY_NAME}=${randomBytes(32).toString('base64')}`,
    '',
  ].join('\n')

/** Returns 'created', 'added' or 'kept' (the file already sets the key). */
export function ensureWrappingKey(file) {
  if (!existsSync(file)) {
    writeFileSync(file, block(), { mode: 0o600 })
    return 'created'
  }
  const text = readFileSync(file, 'utf8')
  if (new RegExp(`^\\s*(export\\s+)?${KEY_NAME}\\s*=`, 'm').test(text)) return 'kept'
  writeFileSync(file, text + (text === '' || text.endsWith('\n') ? '' : '\n') + (text === '' ? '' : '\n') + block())
  return 'added'
}
