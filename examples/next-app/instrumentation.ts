// Runs once when the server starts, before it takes any request. Loading @withnen/server here lets
// it read the request line of every request (node:http's own), which is the target the client
// signed: Next.js hands route handlers a re-serialised URL, and after a rewrite the URL of another
// route (see "Which target is verified" in @withnen/server's README). Without this, a signed
// request that reaches a route before the package is first loaded is refused with ISO-3002.
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs') await import('@withnen/server')
}
