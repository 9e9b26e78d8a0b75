import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PLATFORMS = ['linux/x64', 'linux/arm64', 'darwin/arm64', 'win32/x64', 'win32/arm64'];

/** A node_modules tree as npm leaves it: tenancy with its postinstall, onnxruntime-node, a compiled better-sqlite3. */
function fakeInstall(root: string): { tenancy: string; ort: string; sqlite: string } {
  const nm = path.join(root, 'node_modules');
  const tenancy = path.join(nm, 'tenancy');
  mkdirSync(path.join(tenancy, 'scripts'), { recursive: true });
  writeFileSync(path.join(tenancy, 'package.json'), '{ "name": "tenancy", "type": "module" }');
  copyFileSync('scripts/prune-install.mjs', path.join(tenancy, 'scripts', 'prune-install.mjs'));
  const ort = path.join(nm, 'onnxruntime-node');
  mkdirSync(ort, { recursive: true });
  writeFileSync(path.join(ort, 'package.json'), '{ "name": "onnxruntime-node" }');
  for (const p of PLATFORMS) {
    const dir = path.join(ort, 'bin', 'napi-v6', p);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'onnxruntime_binding.node'), Buffer.alloc(100_000));
  }
  const sqlite = path.join(nm, 'better-sqlite3');
  mkdirSync(path.join(sqlite, 'build', 'Release', 'obj.target'), { recursive: true });
  mkdirSync(path.join(sqlite, 'deps'), { recursive: true });
  writeFileSync(path.join(sqlite, 'package.json'), '{ "name": "better-sqlite3" }');
  writeFileSync(path.join(sqlite, 'build', 'Release', 'better_sqlite3.node'), 'module');
  writeFileSync(path.join(sqlite, 'build', 'Release', 'sqlite3.a'), Buffer.alloc(50_000));
  writeFileSync(path.join(sqlite, 'deps', 'sqlite3.c'), 'source');
  return { tenancy, ort, sqlite };
}

const here = `${process.platform}/${process.arch}`;

test('the postinstall removes the other platforms’ onnxruntime binaries and a compiled sqlite’s leftovers', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tenancy-prune-'));
  try {
    const { tenancy, ort, sqlite } = fakeInstall(root);
    const out = execFileSync(process.execPath, [path.join(tenancy, 'scripts', 'prune-install.mjs')], {
      encoding: 'utf8',
    });
    for (const p of PLATFORMS)
      assert.equal(existsSync(path.join(ort, 'bin', 'napi-v6', p)), p === here, `${p} kept only if it is ${here}`);
    assert.ok(existsSync(path.join(sqlite, 'build', 'Release', 'better_sqlite3.node')), 'the built module stays');
    assert.ok(!existsSync(path.join(sqlite, 'build', 'Release', 'sqlite3.a')));
    assert.ok(!existsSync(path.join(sqlite, 'build', 'Release', 'obj.target')));
    assert.ok(!existsSync(path.join(sqlite, 'deps')));
    assert.match(out, /^tenancy: removed [\d.]+ MB that \S+ does not run \(\d+ paths;/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('TENANCY_KEEP_ALL_PLATFORMS=1 keeps everything, and --dry-run only says what it would remove', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tenancy-prune-'));
  try {
    const { tenancy, ort } = fakeInstall(root);
    const script = path.join(tenancy, 'scripts', 'prune-install.mjs');
    execFileSync(process.execPath, [script], { env: { ...process.env, TENANCY_KEEP_ALL_PLATFORMS: '1' } });
    const dry = execFileSync(process.execPath, [script, '--dry-run'], { encoding: 'utf8' });
    assert.match(dry, /^tenancy: would remove /);
    for (const p of PLATFORMS) assert.ok(existsSync(path.join(ort, 'bin', 'napi-v6', p)), `${p} kept`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an install for another device (npm install --os=linux --cpu=arm64) keeps that device’s binaries', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tenancy-prune-'));
  try {
    const { tenancy, ort } = fakeInstall(root);
    // npm passes its --os / --cpu flags to install scripts as these variables.
    const out = execFileSync(process.execPath, [path.join(tenancy, 'scripts', 'prune-install.mjs')], {
      encoding: 'utf8',
      env: { ...process.env, npm_config_os: 'linux', npm_config_cpu: 'arm64' },
    });
    for (const p of PLATFORMS)
      assert.equal(
        existsSync(path.join(ort, 'bin', 'napi-v6', p)),
        p === 'linux/arm64',
        `${p} kept only if linux/arm64`,
      );
    assert.match(out, /that linux-arm64 does not run/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
