#!/bin/sh
// 2>/dev/null; y=64; for a; do case $a in serve|ui) y=16; break;; esac; done; exec node --max-semi-space-size=$y --min-semi-space-size=16 "$0" "$@"
// The two lines above are for sh (node reads them as a hashbang and a comment): they start node with a
// young generation of 16 MB growing to 64 (Node's default starts at 1 MB and stops at 16). Up to 64, an
// engine's per-step garbage (events, snapshots, commits of a thousand runs in flight) dies young instead
// of being promoted: about a sixth off an engine's CPU per run in `npm run bench`. From 16, a short
// command's start-up (the bundle, its code cache, the schemas: about 15 MB) runs without a collection,
// where from 1 MB it made nine scavenges and a mark-compact: a fifth of `ledgerflow list`'s CPU, for
// 2 MB more resident (bench/RESULTS.md, 2026-12-04). `serve` and `ui` stop at 16: they hold every live run
// for days, and a young generation grown to 64 MB while they load thousands of runs stayed resident, 90–100 MB
// more at their peak (`npm run bench -- held`: ui 312 MB against 207, serve holding 100,000 settled runs 340
// against 238; the goal is 300). Not `#!/usr/bin/env -S node …`: BusyBox's env
// (Alpine) has no -S. `node bin/ledgerflow.js` works too, without the flags; the tests start commands
// with them (test/helpers/cli.ts reads them from here).
// The launcher runs the command's bundle with a code cache (src/cli/launch.ts). This file is CommonJS
// (bin/package.json), as is the launcher: an ES module here would start Node's ES module loader for
// every command, about a tenth of `ledgerflow --version` (scripts/build-cli.mjs).
require('../dist/cli/launch.cjs');
