// Why a target group is missed, with the profile that shows it and what would close it. Written
// by hand from `node benchmark/profile.mjs` and the run's own rows; RESULTS.md prints the note of
// every group with a missed target, so a note that no longer applies disappears with its miss.
// The figures quoted are from the run and profile named in each note; rerun both after changing
// the path a note is about.

export const NOTES = {
  node: {
    title: 'node:http adapter against raw node:http',
    why: [
      'The bar leaves Nen a third of what raw node:http itself spends per request (server CPU µs/req in the HTTP tables: in the run of 2026-12-02, 70 µs per 1 KiB POST and 31 µs per GET, to which Nen adds 113 and 97 µs; on the quieter machine of the run before, 34 and 15 µs, plus 39 and 29).',
      "`node benchmark/profile.mjs node node-get` (in process, mock req/res, the same machine state as the 2026-12-02 run): Nen adds 57 µs to the POST (90 against 34 µs) and 36 µs to the GET. Of the POST's: addon calls (`openSync` + `seal` and the getters of the opened request) 40 µs, the nen.js wrappers around them 5 µs, @withnen/server's own JS about 4 µs beyond the JSON work both sides do, GC 2 µs; of the GET's: addon calls 20, nen.js 5, @withnen/server 7. The crypto inside the addon calls is about 4 µs at 1 KiB (`crypto_bench`: AEAD 0.65 µs each way, HMAC, the JSON check 1.5 µs each way); the rest of that bucket is N-API: converting the request object and its nested headers, the body and result strings, the OpenedRequest instance and each getter call (V8 charges an addon callback and the strings it makes to the call).",
      "Over HTTP the rest is the protocol's own bytes: five signed headers (about 330 B) parsed by llhttp and materialised into `req.headers`, a `cache-control` header, and a body a third larger each way (base64 ciphertext in a JSON envelope).",
    ],
    close:
      'Not reachable in this shape: one N-API crossing each way with the crypto alone is most of the 5-11 µs allowed. Within it, a positional-argument `open` (no nested header object: about 1.5 µs) and sealing into a caller Buffer would take a few µs; the bar itself would need the HTTP handling in Rust (a hyper server in the addon handing JavaScript only the decrypted JSON), a different product.',
  },
  express: {
    title: 'Express adapter against raw node:http',
    why: [
      'The bar compares Express with Nen against raw node:http, and Express without Nen already runs at 0.2x-0.3x of raw node:http in the same run (the HTTP tables: 0.26x POST and 0.16x GET on 2026-12-02). Against plain Express, Nen runs at 0.9x (POST) and 0.73x (GET) in that run.',
    ],
    close: "Nothing in Nen can bring Express above Express's own rate; what closes the node:http gap above is all that applies here.",
  },
  web: {
    title: 'Web handlers and the Next.js route against plain ones',
    why: [
      '`node benchmark/profile.mjs web` (2026-12-02 machine state): Nen adds 158 µs to the in-process POST (308 against 151 µs): addon calls 73 µs (more than on the node adapter: the body arrives as a fresh ArrayBuffer and the answer is encoded again by `Response`), @withnen/server 51 µs (the request read, seven `Headers.get` calls for the six `x-nen-*` headers and content-length, the signed target from the AsyncLocalStorage hook, the answer), nen.js 10 µs, and more undici, Node and GC time than the plain handler for the larger bodies.',
      'The Next.js route meets its bar in that run (1.00x POST, 0.89x GET): Next.js spends 1 000-1 300 µs of CPU per request, and Nen adds about 100.',
    ],
    close:
      'The undici costs are Web API costs (reading the six headers in one pass is not possible through `Headers`); the addon-call part shrinks with what closes the node:http gap. The in-process bar of 15 µs is less than one undici Response; a plain Web handler over node:http spends 150 µs of its own.',
  },
  redis: {
    title: 'Redis store against the memory store',
    why: [
      "Every request makes one Redis round trip (the atomic nonce record, PROTOCOL.md §5.4), pipelined across concurrent requests. Redis's own CPU per request (the `+ Redis` column) plus the client's RESP work and the tokio wake-ups are a fixed cost; a GET has the least other work, so its ratio shows the round trip most: 0.63x in the run before 2026-12-02, 0.89x in that one (POST 0.95x and 0.93x).",
    ],
    close: 'Recording the nonces of requests that arrive together in one script call would cut Redis CPU per request; the round trip itself is the replay guard and stays.',
  },
  handshake: {
    title: 'Handshakes over HTTP',
    why: [
      'The absolute bars depend on the machine: the same code did 9 508 hybrid handshakes/s over HTTP with `handshakeSync` at 57 µs on the quiet machine of the run before, and 4 155/s with `handshakeSync` at 95 µs on 2026-12-02 (an A/B of the two builds on that day measured the same handshake time for both, 97 and 99 µs: the machine, not the code).',
      "The ratio to the WASM engine measured in the same run is out of reach by construction: that engine (the same nen-core in WebAssembly) ran at 1.2-2.6 times the earlier product's 968/s in these runs, and the native one at 3.7x of it in both; on the quiet run 10x would have been 25 000/s, 80 µs of CPU per handshake on 2 cores with HTTP included, where `handshakeSync` alone took 57 µs and a handshake over HTTP 105 µs of server CPU.",
      "The Web handlers add undici's Request and Response to each handshake: about twice the node adapter's server CPU per handshake (208 against 105 µs on the quiet run, 471 against 232 on 2026-12-02).",
    ],
    close: 'The key exchange is on the native provider already (ML-KEM 22-31 µs, X25519 36 µs); the rest is HTTP and JSON around it.',
  },
  stream: {
    title: 'Streams',
    why: [
      'Per chunk, the unencrypted shape costs 1.3-2.3 µs in all (`drain(plainStream())`, quiet and busy run): 0.9x would leave 0.15-0.25 µs per chunk for sealing, less than one N-API call with a string argument and a string result. `NenStream.chunk` now keys its cipher once per stream and writes one buffer and one frame per chunk (1.35 → 1.08 µs in an A/B of the two builds); what is left is the AEAD of a 21-byte plaintext, base64 and the crossing.',
    ],
    close:
      'Sealing several tokens per N-API call (a chunk array in, their frames out as one string) would halve the crossings; 2 million chunks/s needs 0.5 µs per chunk, which one crossing per chunk does not reach here.',
  },
  large: {
    title: '16 KiB and 1 MiB bodies against node:crypto',
    why: [
      "Nen checks that each body is JSON, on open and on seal (PROTOCOL.md §5.4 and §6.1); the peer checks nothing. nen-core's own validator (`nen_core::json`, from 2026-12-02) costs about 22 µs per 16 KiB and 1.3 ms per MiB (serde_json's, before it: 34 µs and 2.0 ms; `cargo run --release -p nen-core --example crypto_bench --features native-provider`), twice per request. Bodies also cross N-API as UTF-8 strings both ways (a 1 MiB answer is built as a JavaScript string, then encoded again for the socket). The ratios stayed where they were (0.62x and 0.45x before, 0.61x and 0.47x on 2026-12-02).",
    ],
    close:
      "Skipping the seal-side check where @withnen/server itself serialised the value (`JSON.stringify` output is JSON) would save one check; results as bytes in caller-provided Buffers would save the string round trips. With both, the 16 KiB case should reach the peer's time; 1 MiB also needs the open-side check, which is part of the protocol's order (a body that is not JSON is refused before its nonce is recorded).",
  },
  memory: {
    title: 'Memory',
    why: ['Both memory targets were met in every run so far; a miss here is new: compare the RSS rows with the previous RESULTS.md and rerun `npm run bench -- --only=memory`.'],
    close: '',
  },
}
