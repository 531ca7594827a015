// Types of the ESM entry (nen.mjs): the same as the CommonJS entry's.
export * from './nen.js'
