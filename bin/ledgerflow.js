#!/bin/sh
// 2>/dev/null; exec node --max-semi-space-size=64 "$0" "$@"
// The two lines above are for sh (node reads them as a hashbang and a comment): they start node with a
// 64 MB young generation (Node's default is 16), so an engine's per-step garbage (events, snapshots,
// commits of a thousand runs in flight) dies young instead of being promoted; that took about a sixth
// off an engine's CPU per run in `npm run bench`. Not `#!/usr/bin/env -S node …`: BusyBox's env (Alpine)
// has no -S. `node bin/ledgerflow.js` works too, without the flag.
// The launcher runs the command's bundle with a code cache (src/cli/launch.ts). This file is CommonJS
// (bin/package.json), as is the launcher: an ES module here would start Node's ES module loader for
// every command, about a tenth of `ledgerflow --version` (scripts/build-cli.mjs).
require('../dist/cli/launch.cjs');
