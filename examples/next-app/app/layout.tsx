import type { ReactNode } from 'react'
import './globals.css'

export const metadata = {
  title: 'Nen + Next.js',
  description: 'Post-quantum application-layer encryption of API payloads',
}

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <link rel="icon" href="data:," />
      </head>
      <body>{children}</body>
    </html>
  )
}
