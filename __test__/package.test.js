'use strict'
// Packaging: `npm pack` the main package and the linux-x64-gnu package, install both tarballs
// into a fresh project with no source tree, and use the module there.

const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.join(__dirname, '..')
const binary = 'nen-server-native.linux-x64-gnu.node'

test('packed tarballs install and work in a project without the source tree', { skip: process.platform !== 'linux' || process.arch !== 'x64' }, () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nen-pack-'))
  const platformDir = path.join(root, 'npm', 'linux-x64-gnu')
  fs.copyFileSync(path.join(root, binary), path.join(platformDir, binary))
  try {
    const pack = (dir) => JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: dir, encoding: 'utf8' }))[0]
    const main = pack(root)
    const native = pack(platformDir)
    const files = main.files.map((f) => f.path).sort()
    assert.deepEqual(files, ['README.md', 'binding-error.js', 'index.d.ts', 'index.js', 'nen.d.mts', 'nen.d.ts', 'nen.js', 'nen.mjs', 'package.json'])
    assert.ok(native.files.some((f) => f.path === binary))

    const app = path.join(work, 'app')
    fs.mkdirSync(app)
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }))
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--omit=optional', path.join(work, native.filename), path.join(work, main.filename)], { cwd: app, stdio: 'ignore' })
    const script = `
      const nen = require('@withnen/server-native')
      const server = new nen.NenServer()
      const hs = nen.NenClientHandshake.start()
      const session = hs.finish(server.handshakeSync(hs.body).body)
      const signed = session.sign('POST', '/api/x', JSON.stringify({ hello: 'world' }))
      const opened = server.openSync({ method: 'POST', url: '/api/x', headers: signed.headers, body: signed.body })
      const reply = session.open(signed, 200, server.seal(opened, opened.body, 200))
      let code
      try { server.openSync({ method: 'POST', url: '/api/x', headers: signed.headers, body: signed.body }) } catch (e) { code = e instanceof nen.NenError && e.code }
      console.log(JSON.stringify({ reply: JSON.parse(reply), code, resolved: require.resolve('@withnen/server-native') }))
    `
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: app, encoding: 'utf8' }))
    assert.deepEqual(out.reply, { hello: 'world' })
    assert.equal(out.code, 'ISO-5001')
    assert.ok(out.resolved.startsWith(app), 'loaded from the installed package, not the source tree')
    assert.ok(!fs.existsSync(path.join(app, 'node_modules', '@withnen', 'server-native', binary)), 'the binary comes from the platform package')
  } finally {
    fs.rmSync(path.join(platformDir, binary), { force: true })
    fs.rmSync(work, { recursive: true, force: true })
  }
})
