// Writes template/ from examples/next-app for `npm pack` (prepack), or removes it (--clean,
// postpack). template/ is git-ignored: the example is the only copy in the repository.

import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { exampleDir, listTemplate, packagedTemplate } from '../lib/template.mjs'

rmSync(packagedTemplate, { recursive: true, force: true })
if (!process.argv.includes('--clean')) {
  if (!existsSync(path.join(exampleDir, 'package.json'))) throw new Error(`${exampleDir} is missing: pack create-nen-app from the Nen repository`)
  const files = listTemplate(exampleDir)
  for (const f of files) {
    const dest = path.join(packagedTemplate, f.stored)
    mkdirSync(path.dirname(dest), { recursive: true })
    copyFileSync(f.abs, dest)
  }
  console.error(`template/: ${files.length} files from ${path.relative(process.cwd(), exampleDir) || '.'}`)
}
