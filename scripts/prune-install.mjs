#!/usr/bin/env node
/**
 * Run by npm after it installs tenancy (the package's postinstall): removes what a device never
 * runs, so that a production install holds only this platform's binaries.
 * - onnxruntime-node ships its native library for darwin, win32 and linux, x64 and arm64
 *   (bin/napi-v*\/<platform>/<arch>/, 288 MB in all); all but the platform npm installs for go:
 *   this machine's, or the one `npm install --os=linux --cpu=arm64` names (npm passes them as
 *   npm_config_os / npm_config_cpu), so an install made on a build machine for a device keeps the
 *   device's binaries.
 * - better-sqlite3, when it had to be compiled (no prebuilt binary could be fetched), leaves its
 *   object files and a static SQLite library (about 17 MB) beside the module it built; they go
 *   in a production install (tenancy inside a node_modules folder), with the SQLite sources,
 *   which only a rebuild reads. A developer checkout keeps them.
 * Set TENANCY_KEEP_ALL_PLATFORMS=1 to keep everything. This script never fails an install: a
 * problem is one line on stderr and exit 0.
 * Usage: node scripts/prune-install.mjs [--dry-run]
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dryRun = process.argv.includes('--dry-run');

/** Bytes under a path (files only; links are not followed). */
export function sizeOf(p) {
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of readdirSync(p)) total += sizeOf(path.join(p, name));
  return total;
}

/** The folder of an installed package as this script's package resolves it, or null. */
function packageDir(name) {
  try {
    const require = createRequire(path.join(here, '..', 'package.json'));
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

/** Paths under onnxruntime-node/bin/napi-v*\/ that are for another platform or architecture. */
export function otherPlatformBinaries(ortDir, platform = process.platform, arch = process.arch) {
  const out = [];
  const bin = path.join(ortDir, 'bin');
  if (!existsSync(bin)) return out;
  for (const napi of readdirSync(bin).filter((n) => n.startsWith('napi-v'))) {
    for (const plat of readdirSync(path.join(bin, napi))) {
      const platDir = path.join(bin, napi, plat);
      if (plat !== platform) {
        out.push(platDir);
        continue;
      }
      for (const a of readdirSync(platDir)) if (a !== arch) out.push(path.join(platDir, a));
    }
  }
  return out;
}

/** What a compiled better-sqlite3 leaves that its built module does not need. */
export function sqliteBuildLeftovers(dir) {
  const release = path.join(dir, 'build', 'Release');
  if (!existsSync(path.join(release, 'better_sqlite3.node'))) return [];
  const out = readdirSync(release)
    .filter((n) => n !== 'better_sqlite3.node')
    .map((n) => path.join(release, n));
  if (existsSync(path.join(dir, 'deps'))) out.push(path.join(dir, 'deps'));
  return out;
}

/** The platform and architecture this install is for: npm's --os / --cpu, else this machine's. */
export function targetPlatform(env = process.env) {
  return { platform: env.npm_config_os || process.platform, arch: env.npm_config_cpu || process.arch };
}

function main() {
  if (process.env.TENANCY_KEEP_ALL_PLATFORMS === '1') return;
  const removed = [];
  const { platform, arch } = targetPlatform();
  const ort = packageDir('onnxruntime-node');
  if (ort) removed.push(...otherPlatformBinaries(ort, platform, arch));
  // A production install: this package lives inside a node_modules folder.
  const installed = path.resolve(here, '..').split(path.sep).includes('node_modules');
  const sqlite = installed ? packageDir('better-sqlite3') : null;
  if (sqlite) removed.push(...sqliteBuildLeftovers(sqlite));
  let bytes = 0;
  for (const p of removed) {
    bytes += sizeOf(p);
    if (!dryRun) rmSync(p, { recursive: true, force: true });
  }
  if (removed.length)
    console.log(
      `tenancy: ${dryRun ? 'would remove' : 'removed'} ${(bytes / 1e6).toFixed(1)} MB that ` +
        `${platform}-${arch} does not run ` +
        `(${removed.length} paths; TENANCY_KEEP_ALL_PLATFORMS=1 keeps them)`,
    );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    console.error(`tenancy: pruning the install skipped: ${err instanceof Error ? err.message : String(err)}`);
  }
}
