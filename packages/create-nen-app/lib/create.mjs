// `create-nen-app <dir>`: a new Next.js app from the template, with a fresh wrapping key.

import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ensureWrappingKey } from './env-file.mjs'
import { installCommand, nenDependencies, printable, runInstall } from './packages.mjs'
import { listTemplate, templateRoot } from './template.mjs'

/** A valid npm package name from a directory name. */
export function packageName(dir) {
  const name = path
    .basename(path.resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+/, '')
    .slice(0, 214)
  return name || 'nen-app'
}

/** The template's package.json for an app: its name, and the @withnen packages to install. */
export function appPackageJson(templateJson, name, local) {
  const pkg = JSON.parse(templateJson)
  pkg.name = name
  pkg.version = '0.1.0'
  const deps = Object.fromEntries(Object.entries(pkg.dependencies ?? {}).filter(([n]) => !n.startsWith('@withnen/')))
  Object.assign(deps, nenDependencies(local, { ai: true }))
  pkg.dependencies = Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)))
  return JSON.stringify(pkg, null, 2) + '\n'
}

const readme = (name) => `# ${name}

A Next.js app whose API payloads are encrypted end to end with [Nen](https://www.npmjs.com/package/@withnen/server):
post-quantum key exchange (X25519 + ML-KEM-768) between the browser and the route handlers,
every request and response body sealed, on top of TLS.

\`\`\`sh
npm run dev                         # http://localhost:3000
npm run build && npm start          # production
node .next/standalone/server.js     # the standalone server that \`npm run build\` leaves
\`\`\`

- \`app/api/nen/[action]/route.ts\`: the Nen protocol routes (handshake, rotate, terminate, status).
- \`app/api/items\`, \`app/api/stream\`: encrypted routes, written with \`withNen\` / \`withNenStream\`.
- \`app/page.tsx\`: the browser side, with \`createNenFetch\` / \`createNenStream\` from \`@withnen/client\`.
- \`.env.local\`: \`NEN_WRAPPING_KEY\`, which wraps session keys in a shared store (Redis,
  Upstash); the default in-memory store suits one instance.
- \`next.config.ts\`: \`serverExternalPackages: ['@withnen/server-native']\` (required: the addon
  is a native module) and \`output: 'standalone'\`.
`

/**
 * Scaffolds the app into `target` (absent or empty). Options: `local` ({name: tarball}) or
 * undefined for registry versions; `install` (default true); `log`.
 */
export function createApp(target, { local, install = true, log = console.log } = {}) {
  const dir = path.resolve(target)
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir} exists and is not empty`)
  mkdirSync(dir, { recursive: true })
  const name = packageName(dir)
  const root = templateRoot()
  for (const f of listTemplate(root)) {
    const dest = path.join(dir, f.rel)
    mkdirSync(path.dirname(dest), { recursive: true })
    if (f.rel === 'package.json') writeFileSync(dest, appPackageJson(readFileSync(f.abs, 'utf8'), name, local))
    else copyFileSync(f.abs, dest)
  }
  writeFileSync(path.join(dir, 'README.md'), readme(name))
  ensureWrappingKey(path.join(dir, '.env.local'))
  log(`Created ${name} in ${dir}, with a fresh NEN_WRAPPING_KEY in .env.local.`)
  const command = installCommand('npm', null, { local: Boolean(local) })
  if (install) {
    log(`Installing dependencies (${printable(command)})…`)
    runInstall(dir, command)
  }
  const rel = path.relative(process.cwd(), dir) || '.'
  log(['', 'Next:', `  cd ${rel}`, ...(install ? [] : [`  ${printable(command)}`]), '  npm run dev', ''].join('\n'))
  return { dir, name }
}
