// Checks the cross-built addons in npm/<platform>/ (scripts/cross-build.sh): each is an ELF
// shared object for its package's CPU, linked against its package's libc, needing no glibc
// symbol newer than the documented baseline (none at all in a musl build), in the package
// whose `main` names it. Reads the ELF with readelf, which knows every architecture.
//
//   node scripts/check-artefacts.mjs linux-x64-gnu linux-arm64-musl ...
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'

/** The oldest glibc the gnu builds support (README, Install). */
export const GLIBC_BASELINE = '2.17'
const MACHINE = { x64: 'Advanced Micro Devices X86-64', arm64: 'AArch64' }

const newer = (a, b) => {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number))
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0)
  return false
}

// NEN_NPM_DIR: another folder laid out like npm/ (cross-build.sh's self-test of this check).
const NPM = process.env.NEN_NPM_DIR ?? 'npm'

function check(platform) {
  const dir = `${NPM}/${platform}`
  const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'))
  const [os, cpu, abi] = platform.split('-')
  const file = `${dir}/nen-server-native.${platform}.node`
  const problems = []
  if (pkg.main !== `nen-server-native.${platform}.node`) problems.push(`package.json main is ${pkg.main}`)
  if (!pkg.files?.includes(pkg.main)) problems.push('package.json files does not ship main')
  if (pkg.os?.[0] !== os || pkg.cpu?.[0] !== cpu) problems.push(`package.json os/cpu are ${pkg.os}/${pkg.cpu}`)
  const libc = abi === 'musl' ? 'musl' : 'glibc'
  if (pkg.libc?.[0] !== libc) problems.push(`package.json libc is ${pkg.libc}, expected ${libc}`)
  if (!existsSync(file)) return { platform, problems: [...problems, `${file} is missing`] }
  const readelf = (...args) => execFileSync('readelf', [...args, file], { encoding: 'utf8' })
  const header = readelf('-h', '-W')
  const machine = /Machine:\s+(.+)/.exec(header)?.[1].trim()
  if (machine !== MACHINE[cpu]) problems.push(`ELF machine is ${machine}, expected ${MACHINE[cpu]}`)
  if (!/Type:\s+DYN/.test(header)) problems.push('not a shared object')
  const needed = [...readelf('-d', '-W').matchAll(/\(NEEDED\)\s+Shared library: \[(.+?)\]/g)].map((m) => m[1])
  const versions = [...new Set([...readelf('-V', '-W').matchAll(/Name: GLIBC_([\d.]+)/g)].map((m) => m[1]))]
  const highest = versions.reduce((a, v) => (newer(v, a) ? v : a), '0')
  if (libc === 'glibc') {
    if (!needed.includes('libc.so.6')) problems.push(`does not link glibc (NEEDED: ${needed.join(', ')})`)
    if (newer(highest, GLIBC_BASELINE)) problems.push(`needs GLIBC_${highest}, above the ${GLIBC_BASELINE} baseline`)
  } else {
    if (versions.length) problems.push(`a musl build needing glibc symbols: GLIBC_${versions.join(', GLIBC_')}`)
    if (needed.some((n) => /^lib(c|m|pthread|dl)\.so\.\d/.test(n))) problems.push(`links a glibc library (NEEDED: ${needed.join(', ')})`)
    if (!needed.some((n) => /^libc(\.musl-[\w-]+)?\.so(\.1)?$/.test(n))) problems.push(`does not link musl's libc (NEEDED: ${needed.join(', ')})`)
  }
  return { platform, machine, needed, glibc: libc === 'glibc' ? highest : 'none', problems }
}

const results = process.argv.slice(2).map(check)
for (const r of results) {
  console.log(`${r.problems.length ? 'FAIL' : 'ok  '} ${r.platform.padEnd(17)} ${r.machine ?? '-'}; needs ${r.needed?.join(' ') ?? '-'}; highest glibc symbol ${r.glibc ?? '-'}`)
  for (const p of r.problems) console.log(`       ${p}`)
}
if (results.some((r) => r.problems.length)) process.exit(1)
