// Honest request targets, shared by the Node (targets.test.mjs) and browser (browser.test.mjs)
// tests. `path` is what the caller passes to nenFetch; `wire` is the origin-form target the WHATWG
// URL serialisation gives for it, so the bytes fetch sends, the bytes the client signs and the
// raw `req.url` the server verifies; `saw` is what the handler must have read from it (a subset
// of the decrypted echo: the query, or the decoded path segments and query pairs). Where the
// runtimes' URL parsers spell a path differently, `wire` is `{ node, chromium }`: each client
// signs what its own fetch sends, so both verify.

export const HONEST_TARGETS = [
  {
    name: 'a query value holding ://',
    path: '/api/echo?next=https://example.com/a/b',
    wire: '/api/echo?next=https://example.com/a/b',
    saw: { query: '?next=https://example.com/a/b', params: [['next', 'https://example.com/a/b']] },
  },
  {
    name: 'a query value holding ://, POST with a body',
    path: '/api/echo?next=https://example.com/a/b',
    init: { method: 'POST', body: { pay: 'x://y' } },
    wire: '/api/echo?next=https://example.com/a/b',
    saw: { method: 'POST', body: { pay: 'x://y' }, params: [['next', 'https://example.com/a/b']] },
  },
  {
    name: '%2F inside a path segment',
    path: '/api/target/a%2Fb',
    wire: '/api/target/a%2Fb',
    saw: { pathname: '/api/target/a%2Fb', segments: ['a/b'] },
  },
  {
    name: '+ in a query',
    path: '/api/echo?q=a+b',
    wire: '/api/echo?q=a+b',
    saw: { query: '?q=a+b', params: [['q', 'a b']] },
  },
  {
    name: '%2B in a query (a literal plus)',
    path: '/api/echo?q=a%2Bb',
    wire: '/api/echo?q=a%2Bb',
    saw: { query: '?q=a%2Bb', params: [['q', 'a+b']] },
  },
  {
    name: 'raw spaces in the path and the query',
    path: '/api/target/hello world?x=a b',
    wire: '/api/target/hello%20world?x=a%20b',
    saw: { pathname: '/api/target/hello%20world', segments: ['hello world'], params: [['x', 'a b']] },
  },
  {
    name: 'non-ASCII in the path and the query',
    path: '/api/target/café?tag=✓',
    wire: '/api/target/caf%C3%A9?tag=%E2%9C%93',
    saw: { segments: ['café'], params: [['tag', '✓']] },
  },
  {
    name: "' in a query",
    path: "/api/echo?q=it's",
    wire: '/api/echo?q=it%27s',
    saw: { query: '?q=it%27s', params: [['q', "it's"]] },
  },
  {
    name: "' in a path segment (kept raw: only the query encodes it)",
    path: "/api/target/it's",
    wire: "/api/target/it's",
    saw: { segments: ["it's"] },
  },
  {
    name: '{|}^` in the path and the query (Chromium also encodes | and ^ in a path)',
    path: '/api/target/{|}^`?q={|}^`',
    wire: { node: '/api/target/%7B|%7D^%60?q={|}^`', chromium: '/api/target/%7B%7C%7D%5E%60?q={|}^`' },
    saw: { segments: ['{|}^`'], params: [['q', '{|}^`']] },
  },
  {
    name: 'empty values',
    path: '/api/echo?a=&b',
    wire: '/api/echo?a=&b',
    saw: {
      query: '?a=&b',
      params: [
        ['a', ''],
        ['b', ''],
      ],
    },
  },
  {
    name: 'repeated and unordered keys, kept in order',
    path: '/api/echo?b=2&a=1&b=1',
    wire: '/api/echo?b=2&a=1&b=1',
    saw: {
      params: [
        ['b', '2'],
        ['a', '1'],
        ['b', '1'],
      ],
    },
  },
  {
    name: 'an empty query (the serialisation drops the ?)',
    path: '/api/target?',
    wire: '/api/target',
    saw: { search: '', params: [] },
  },
  {
    name: 'a fragment (never sent)',
    path: '/api/target/f?x=1#frag',
    wire: '/api/target/f?x=1',
    saw: { segments: ['f'], params: [['x', '1']] },
  },
  {
    name: 'dot segments (resolved by the URL parser)',
    path: '/api/target/x/../y/./z',
    wire: '/api/target/y/z',
    saw: { segments: ['y', 'z'] },
  },
  {
    name: 'lower-case percent escapes are kept as written',
    path: '/api/target/%7euser?a=%7e1',
    wire: '/api/target/%7euser?a=%7e1',
    saw: { segments: ['~user'], params: [['a', '~1']] },
  },
  {
    name: 'a matrix parameter and %3F in a segment',
    path: '/api/target/a;v=1/what%3F?x=%26',
    wire: '/api/target/a;v=1/what%3F?x=%26',
    saw: { segments: ['a;v=1', 'what?'], params: [['x', '&']] },
  },
]

/** The item flow: ids with `%2F` and non-ASCII, stored and read back under their decoded id. */
export const ITEM_STEPS = [
  { path: '/api/items/a%2Fb', init: { method: 'PUT', body: { name: 'slash' } }, wire: '/api/items/a%2Fb', status: 200, body: { id: 'a/b', name: 'slash' } },
  { path: '/api/items/a%2Fb', wire: '/api/items/a%2Fb', status: 200, body: { id: 'a/b', name: 'slash' } },
  // `/api/items/a/b` is another route: the router never saw a decoded slash.
  { path: '/api/items/a/b', wire: '/api/items/a/b', status: 404, body: { error: 'no route' } },
  { path: '/api/items/café?tag=✓', init: { method: 'PUT', body: { name: 'accent' } }, wire: '/api/items/caf%C3%A9?tag=%E2%9C%93', status: 200, body: { id: 'café', name: 'accent' } },
  // The same bytes, spelt already encoded by the caller.
  { path: '/api/items/caf%C3%A9', wire: '/api/items/caf%C3%A9', status: 200, body: { id: 'café', name: 'accent' } },
  { path: '/api/items/café', init: { method: 'HEAD' }, wire: '/api/items/caf%C3%A9', status: 200, body: null },
]

/** The table for one runtime (`'node'` or `'chromium'`): every `wire` a string. */
export function targetsFor(runtime) {
  return HONEST_TARGETS.map((t) => ({ ...t, wire: typeof t.wire === 'string' ? t.wire : t.wire[runtime] }))
}

/** The entries of `got` for the keys of `want`, to compare with `want` (the echo carries more). */
export function pick(got, want) {
  return Object.fromEntries(Object.keys(want).map((k) => [k, got?.[k]]))
}
