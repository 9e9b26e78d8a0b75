#!/usr/bin/env -S node --min-semi-space-size=16 --initial-old-space-size=128
// Runs the compiled CLI (built by `npm ci` through the prepare script).
// The node flags are the V8 heap settings a serving process needs (young generation sized for
// requests that live through queueing; an old-generation floor so that short-lived tensor buffers
// do not start a full collection several times a second): src/server/heap-flags.ts says why, with
// the measurements. V8 sizes the heap at start, so they must be here; NODE_OPTIONS refuses them.
import '../dist/cli/main.js';
