/** What the soak's stream route sends for `{n, seed}`: derived from the request, so the client can check every token. */
export const streamTokens = (n, seed) => Array.from({ length: n }, (_, i) => `t${seed}.${i} `)
