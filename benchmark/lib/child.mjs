// Sections run in child processes of main.mjs (a clean heap each, no section's garbage or
// threads in another's figures). A section module calls `section(run)`: run as a child it sends
// run()'s result to the parent; run directly (`node benchmark/sections/x.mjs [--quick]`) it
// prints only its progress lines, and the result as JSON with `--json`.

import { fork } from 'node:child_process'

export function section(run) {
  run().then(
    (result) => {
      if (process.send) process.send({ result }, () => process.exit(0))
      else if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2))
    },
    (e) => {
      console.error(e)
      process.exit(1)
    },
  )
}

/** Runs a section module in a child process with this process's flags; resolves to its result. */
export function runSection(file, extraArgs = []) {
  return new Promise((resolve, reject) => {
    const child = fork(file, [...process.argv.slice(2), ...extraArgs], { stdio: 'inherit', execArgv: ['--expose-gc'] })
    let result
    child.on('message', (m) => {
      if (m && 'result' in m) result = m.result
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (code === 0 && result !== undefined) resolve(result)
      else reject(new Error(`${file} failed (exit ${code ?? signal}): see its output above`))
    })
  })
}
