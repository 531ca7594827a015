// The addon is an optional peer, loaded at run time and checked by shape (native.ts): compiling
// this package must not need it installed.
declare module '@withnen/server-native'
