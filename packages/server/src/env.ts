// Environment variables where the runtime has them (Node, Next.js edge); undefined elsewhere.

export function env(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
  const v = p?.env?.[name]
  return v === '' ? undefined : v
}
