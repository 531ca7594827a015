import type { NextConfig } from 'next'

const nextConfig: NextConfig = {
  // The Nen server addon is a native (.node) module: Next.js must load it with Node's require at
  // run time instead of bundling it. Required.
  serverExternalPackages: ['@withnen/server-native'],
  // A self-contained server in .next/standalone (node .next/standalone/server.js), addon included.
  output: 'standalone',
  // This directory is the project root, even inside a repository with a lock file of its own
  // (in a monorepo that hoists node_modules to its root, point both at that root instead).
  outputFileTracingRoot: __dirname,
  turbopack: { root: __dirname },
}

export default nextConfig
