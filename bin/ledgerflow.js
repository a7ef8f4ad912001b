#!/bin/sh
// 2>/dev/null; exec node --max-semi-space-size=64 --min-semi-space-size=16 "$0" "$@"
// The two lines above are for sh (node reads them as a hashbang and a comment): they start node with a
// young generation of 16 MB growing to 64 (Node's default starts at 1 MB and stops at 16). Up to 64, an
// engine's per-step garbage (events, snapshots, commits of a thousand runs in flight) dies young instead
// of being promoted: about a sixth off an engine's CPU per run in `npm run bench`. From 16, a short
// command's start-up (the bundle, its code cache, the schemas: about 15 MB) runs without a collection,
// where from 1 MB it made nine scavenges and a mark-compact: a fifth of `ledgerflow list`'s CPU, for
// 2 MB more resident (bench/RESULTS.md, 2026-12-04). Not `#!/usr/bin/env -S node …`: BusyBox's env
// (Alpine) has no -S. `node bin/ledgerflow.js` works too, without the flags; the tests start commands
// with them (test/helpers/cli.ts reads them from here).
// The launcher runs the command's bundle with a code cache (src/cli/launch.ts). This file is CommonJS
// (bin/package.json), as is the launcher: an ES module here would start Node's ES module loader for
// every command, about a tenth of `ledgerflow --version` (scripts/build-cli.mjs).
require('../dist/cli/launch.cjs');
