// An in-memory item store for the example. It lives on globalThis so that every route module
// (Next.js may load each route in its own module graph) sees the same data in one process.

export interface Item {
  id: string
  name: string
  done: boolean
  updatedAt: string
}

interface Store {
  next: number
  items: Map<string, Item>
}

const g = globalThis as typeof globalThis & { __nenExampleItems?: Store }
const store: Store = (g.__nenExampleItems ??= { next: 1, items: new Map() })

/** Validates an item body: `name` a non-empty string of at most 200 characters, `done` a boolean. */
export function parseItem(body: unknown, partial: boolean): { name?: string; done?: boolean } | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be a JSON object'
  const { name, done } = body as Record<string, unknown>
  if (name === undefined && !partial) return '`name` is required'
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '' || name.length > 200)) return '`name` must be a non-empty string (200 characters at most)'
  if (done !== undefined && typeof done !== 'boolean') return '`done` must be a boolean'
  return { name: name as string | undefined, done: done as boolean | undefined }
}

export function listItems(): Item[] {
  return [...store.items.values()]
}

export function getItem(id: string): Item | undefined {
  return store.items.get(id)
}

export function createItem(fields: { name?: string; done?: boolean }): Item {
  const item: Item = { id: String(store.next++), name: fields.name ?? '', done: fields.done ?? false, updatedAt: new Date().toISOString() }
  store.items.set(item.id, item)
  return item
}

/** PUT replaces (`done` back to false unless given), PATCH merges. */
export function updateItem(id: string, fields: { name?: string; done?: boolean }, replace: boolean): Item | undefined {
  const old = store.items.get(id)
  if (!old) return undefined
  const item: Item = replace
    ? { id, name: fields.name ?? '', done: fields.done ?? false, updatedAt: new Date().toISOString() }
    : { ...old, ...definedOnly(fields), updatedAt: new Date().toISOString() }
  store.items.set(id, item)
  return item
}

export function deleteItem(id: string): boolean {
  return store.items.delete(id)
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
