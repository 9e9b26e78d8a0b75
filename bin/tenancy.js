#!/usr/bin/env -S node --min-semi-space-size=16
// Runs the compiled CLI (built by `npm ci` through the prepare script).
// --min-semi-space-size=16 (MiB): a served request's objects live for its queueing and inference,
// tens of milliseconds; with V8's default 1 MiB young generation they survive two scavenges, are
// promoted, and the old generation then needs a full mark-compact every ~120 ms under load
// (docs/serving.md, "Performance"). V8 sizes the young generation at start, so the flag must be on
// the command line; NODE_OPTIONS does not accept it.
import '../dist/cli/main.js';
