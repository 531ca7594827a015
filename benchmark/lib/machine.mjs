// What the run ran on, and CPU and memory read from /proc: this process's tokio workers, whole
// process groups (servers, the load generator, Redis), and how busy other processes kept the
// machine.

import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const repoRoot = path.resolve(benchDir, '..')

const CLK_TCK = 100 // USER_HZ on Linux

/** CPU model, cores, memory, OS, Node, git commit (and whether the tree had changes). */
export function machineInfo() {
  const git = (...args) => {
    try {
      return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    } catch {
      return ''
    }
  }
  const flags = (readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '').split(/\s+/)
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    simd: ['avx2', 'avx512f', 'sha_ni'].filter((f) => flags.includes(f)).join(' '),
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.versions.node,
    openssl: process.versions.openssl,
    napi: process.versions.napi,
    commit: git('rev-parse', '--short=12', 'HEAD'),
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    date: new Date().toISOString(),
  }
}

/** utime + stime of one process, µs (all its threads). */
function pidCpuUs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(f[11]) + Number(f[12])) / CLK_TCK) * 1e6
}

/** Pids of process group `pgid`. */
export function groupPids(pgid) {
  const pids = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid) pids.push(Number(d))
    } catch {} // gone meanwhile
  }
  return pids
}

/**
 * CPU µs used so far by process group `pgid`, as a counter that survives processes of the group
 * exiting between two reads (their last value is kept).
 */
export function groupCpuMeter(pgid) {
  const last = new Map()
  return () => {
    for (const pid of groupPids(pgid)) {
      try {
        last.set(pid, pidCpuUs(pid))
      } catch {}
    }
    let us = 0
    for (const v of last.values()) us += v
    return us
  }
}

/** CPU µs used so far by one process. */
export function pidCpuMeter(pid) {
  return () => {
    try {
      return pidCpuUs(pid)
    } catch {
      return 0
    }
  }
}

/** Resident set size of a process group, bytes. */
export function groupRss(pgid) {
  let kb = 0
  for (const pid of groupPids(pgid)) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? 0)
    } catch {}
  }
  return kb * 1024
}

/** This process's resident set size, bytes. */
export const selfRss = () => process.memoryUsage.rss()

/** CPU time so far, in µs, of this process's tokio workers (per-thread schedstat; exact while they sleep). */
export function tokioCpu() {
  let us = 0
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'latin1').startsWith('tokio')) {
        us += Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ')[0]) / 1e3
      }
    } catch {} // the thread exited meanwhile
  }
  return us
}

/** Busy CPU of the whole machine so far, µs (user nice system irq softirq). */
function machineBusyUs() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 8).map(Number)
  return ((f[0] + f[1] + f[2] + f[5] + f[6]) / CLK_TCK) * 1e6
}

/**
 * Starts measuring; the returned function gives how many cores processes other than the ones
 * `ownCpu()` counts kept busy since then (`ownCpu` defaults to this process).
 */
export function otherLoad(
  ownCpu = () => {
    const u = process.cpuUsage()
    return u.user + u.system
  },
) {
  const busy0 = machineBusyUs()
  const own0 = ownCpu()
  const t0 = process.hrtime.bigint()
  return () => {
    const wallUs = Number(process.hrtime.bigint() - t0) / 1e3
    return Math.max(0, (machineBusyUs() - busy0 - (ownCpu() - own0)) / wallUs)
  }
}

/** Which addon file this process loaded, and whether it carries debug info (an unoptimised build?). */
export function loadedAddon() {
  const maps = readFileSync('/proc/self/maps', 'utf8')
  const file = maps
    .split('\n')
    .map((l) => l.slice(l.indexOf('/')))
    .find((p) => /nen[-_]server[-_]native.*\.node$/.test(p))
  if (!file) return { file: 'unknown', debugInfo: false }
  return { file, debugInfo: elfSections(readFileSync(file)).includes('.debug_info') }
}

/** Section names of a 64-bit little-endian ELF file. */
function elfSections(elf) {
  const shoff = Number(elf.readBigUInt64LE(0x28))
  const shentsize = elf.readUInt16LE(0x3a)
  const shnum = elf.readUInt16LE(0x3c)
  const shstrndx = elf.readUInt16LE(0x3e)
  const strtab = Number(elf.readBigUInt64LE(shoff + shstrndx * shentsize + 0x18))
  const names = []
  for (let i = 0; i < shnum; i++) {
    const at = strtab + elf.readUInt32LE(shoff + i * shentsize)
    names.push(elf.toString('latin1', at, elf.indexOf(0, at)))
  }
  return names
}
