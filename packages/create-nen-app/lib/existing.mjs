// `create-nen-app --existing [dir]`: adds Nen to an App Router project. Never overwrites a file
// or a key that is there; a Next.js config it cannot patch safely is left as it is and reported.

import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ensureWrappingKey } from './env-file.mjs'
import { configKey, ensureNextConfig } from './next-config.mjs'
import { detectPackageManager, installCommand, nenDependencies, printable, runInstall } from './packages.mjs'
import { listTemplate, templateRoot } from './template.mjs'

export const ROUTE = 'api/nen/[action]'

/**
 * The project's Next.js version as [major, minor, patch]: the installed one (node_modules/next),
 * else the first version its package.json range names; undefined when neither says.
 */
export function nextVersion(dir, pkg) {
  try {
    const v = JSON.parse(readFileSync(path.join(dir, 'node_modules', 'next', 'package.json'), 'utf8')).version
    const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v)
    if (m) return [Number(m[1]), Number(m[2]), Number(m[3])]
  } catch {}
  const range = pkg.dependencies?.next ?? pkg.devDependencies?.next
  const m = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(range ?? '')
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined
}

/**
 * The first Next.js whose App Router route handlers Nen can verify on Node: from 14.2.7 Next.js
 * records the path it dispatched a request on in its request meta (`invokePath`); before, only
 * in an `x-invoke-path` header, which Nen never trusts (a client can send headers), so every
 * signed request to an App Router route is refused with ISO-3002 there (Pages Router API routes
 * and edge routes work).
 */
export const MIN_APP_ROUTER = [14, 2, 7]

const older = (v, than) => (v[0] !== than[0] ? v[0] < than[0] : v[1] !== than[1] ? v[1] < than[1] : v[2] < than[2])

/** The template's protocol route, the one file every Nen app needs. */
export function routeSource() {
  const f = listTemplate(templateRoot()).find((f) => f.rel === `app/${ROUTE}/route.ts`)
  if (!f) throw new Error(`the template has no app/${ROUTE}/route.ts`)
  return readFileSync(f.abs, 'utf8')
}

/**
 * Returns {ok, steps: [{what, action, file?}], instructions?}. `ok` is false when something
 * must be done by hand (the instructions say what).
 */
export function addToExisting(target, { local, install = true, log = console.log } = {}) {
  const dir = path.resolve(target)
  const pkgFile = path.join(dir, 'package.json')
  if (!existsSync(pkgFile)) throw new Error(`${dir} has no package.json: is it a Next.js project?`)
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'))
  const appDir = ['app', 'src/app'].map((d) => path.join(dir, d)).find((d) => existsSync(d))
  if (!appDir) throw new Error(`${dir} has no app/ or src/app/ directory: Nen's Next.js routes need the App Router`)
  const version = nextVersion(dir, pkg)
  if (!version) log(`warning: ${pkgFile} does not list next: writing the Next.js 15+ config key`)
  else if (older(version, MIN_APP_ROUTER))
    throw new Error(
      `next ${version.join('.')}: Nen's App Router routes need Next.js ${MIN_APP_ROUTER.join('.')} or later (earlier versions do not tell a route handler which path they dispatched on, so Nen refuses every signed request there with ISO-3002); upgrade Next.js first, or use Pages Router API routes (@withnen/server/node)`,
    )
  const flavour = configKey(version?.[0])
  const typescript = existsSync(path.join(dir, 'tsconfig.json'))
  const steps = []
  let instructions

  // 1. The protocol route.
  const routeDir = path.join(appDir, ...ROUTE.split('/'))
  const existing = existsSync(routeDir) ? readdirSync(routeDir).find((f) => /^route\.(ts|tsx|js|jsx|mjs)$/.test(f)) : undefined
  const source = routeSource()
  if (existing) {
    const file = path.join(routeDir, existing)
    const same = readFileSync(file, 'utf8') === source
    steps.push({ what: 'route', action: same ? 'present' : 'kept', file })
    if (!same) log(`note: ${path.relative(dir, file)} exists and was left as it is; it should export nenRoute's GET and POST`)
  } else {
    const file = path.join(routeDir, typescript ? 'route.ts' : 'route.js')
    mkdirSync(routeDir, { recursive: true })
    writeFileSync(file, source) // no TypeScript syntax in it: the same text is valid JavaScript
    steps.push({ what: 'route', action: 'created', file })
  }

  // 1b. instrumentation: loads @withnen/server before the first request, so the Web adapters can
  // read each request line (without it the first signed request of a process is refused).
  const instrumentation = ['instrumentation.ts', 'instrumentation.js', 'src/instrumentation.ts', 'src/instrumentation.js'].map((f) => path.join(dir, f)).find((f) => existsSync(f))
  if (instrumentation) {
    const text = readFileSync(instrumentation, 'utf8')
    const has = text.includes('@withnen/server')
    steps.push({ what: 'instrumentation', action: has ? 'present' : 'kept', file: instrumentation })
    if (!has) log(`note: ${path.relative(dir, instrumentation)} exists and was left as it is; its register() should \`await import('@withnen/server')\` when process.env.NEXT_RUNTIME === 'nodejs'`)
  } else {
    const src = listTemplate(templateRoot()).find((f) => f.rel === 'instrumentation.ts')
    if (src) {
      const file = path.join(appDir.endsWith(path.join('src', 'app')) ? path.join(dir, 'src') : dir, typescript ? 'instrumentation.ts' : 'instrumentation.js')
      writeFileSync(file, readFileSync(src.abs, 'utf8'))
      steps.push({ what: 'instrumentation', action: 'created', file })
    }
  }

  // 2. next.config: serverExternalPackages (15+) or experimental.serverComponentsExternalPackages (14).
  const config = ensureNextConfig(dir, { typescript, flavour })
  steps.push({ what: 'next.config', action: config.action, file: config.file })
  if (config.action === 'manual') instructions = config.instructions + (config.reason ? `\n(${config.reason})` : '')
  else if (flavour.within && !readFileSync(config.file, 'utf8').includes('instrumentationHook'))
    log(`note: Next.js ${version.join('.')} runs instrumentation.ts only with experimental.instrumentationHook: true in ${path.basename(config.file)}`)

  // 3. .env.local: a wrapping key, unless there is one.
  const envFile = path.join(dir, '.env.local')
  steps.push({ what: '.env.local', action: ensureWrappingKey(envFile), file: envFile })

  // 4. The packages.
  const command = installCommand(detectPackageManager(dir), nenDependencies(local), { local: Boolean(local) })
  if (install) {
    log(`Installing ${Object.keys(nenDependencies(local)).join(', ')} (${printable(command)})…`)
    runInstall(dir, command)
    steps.push({ what: 'packages', action: 'installed' })
  } else {
    steps.push({ what: 'packages', action: 'skipped', command: printable(command) })
  }

  for (const s of steps) log(`  ${s.what.padEnd(12)} ${s.action}${s.file ? `  ${path.relative(dir, s.file)}` : ''}${s.command ? `  (run: ${s.command})` : ''}`)
  if (instructions) log('\n' + instructions)
  else
    log(
      [
        '',
        'Nen is set up. Wrap a route handler:',
        "  import { withNen } from '@withnen/server'",
        '  export const POST = withNen(async (req, body) => ({ received: body }))',
        'and call it from the browser (create the client on first use, not at module scope):',
        "  import { createNenFetch } from '@withnen/client'",
        '  let nenFetch',
        '  const nen = () => (nenFetch ??= createNenFetch(location.origin))',
        "  const res = await nen()('/api/your-route', { method: 'POST', body: { hello: 'world' } })",
        '',
      ].join('\n'),
    )
  return { ok: !instructions, steps, instructions }
}
