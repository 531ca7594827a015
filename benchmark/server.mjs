// The addon against the peers in process (the `core` section of `npm run bench`), on its own:
//   node benchmark/server.mjs [--quick] [--json]
// See main.mjs for the whole run and README.md for what each row measures.

import './sections/core.mjs'
