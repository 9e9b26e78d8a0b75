import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const UNIT = 'deploy/systemd/tenancy.service';
const INSTALLED_BIN = '/opt/tenancy/node_modules/.bin/tenancy';

/** The unit's [Section] key=value pairs (repeated keys keep every value, in order). */
function parseUnit(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(\w+)\]$/.exec(line);
    if (s) {
      section = s[1];
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(eq > 0, `not key=value: ${line}`);
    const key = `${section}.${line.slice(0, eq)}`;
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;

test('the systemd unit runs tenancy serve as its own user, hardened, logging JSON to stdout', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const one = (k: string) => {
    const v = unit.get(k);
    assert.ok(v, `${UNIT} has no ${k}`);
    return v[v.length - 1];
  };
  assert.match(one('Service.ExecStart'), new RegExp(`^${INSTALLED_BIN} serve .*--log-format json`));
  assert.equal(one('Service.User'), 'tenancy');
  assert.equal(one('Service.Group'), 'tenancy');
  assert.equal(one('Service.NoNewPrivileges'), 'yes');
  assert.equal(one('Service.ProtectSystem'), 'strict');
  assert.equal(one('Service.ProtectHome'), 'yes');
  assert.equal(one('Service.PrivateTmp'), 'yes');
  assert.equal(one('Service.CapabilityBoundingSet'), '');
  assert.equal(one('Service.KillSignal'), 'SIGTERM');
  // the only writable path is the state directory, where the default repository and .tenancy/ live
  assert.equal(one('Service.WorkingDirectory'), '/var/lib/tenancy');
  assert.equal(one('Service.StateDirectory'), 'tenancy');
  assert.deepEqual(unit.get('Service.ReadWritePaths'), ['/var/lib/tenancy']);
  assert.ok(unit.get('Service.Environment')?.includes('TENANCY_LOG_FORMAT=json'));
  // V8 compiles code at run time: denying W+X memory would kill node
  assert.equal(unit.get('Service.MemoryDenyWriteExecute'), undefined);
  assert.equal(one('Install.WantedBy'), 'multi-user.target');
  const sysusers = readFileSync('deploy/systemd/tenancy.sysusers.conf', 'utf8');
  assert.match(sysusers, /^u tenancy - ".*" \/var\/lib\/tenancy /m);
});

test('systemd-analyze verify accepts the unit without a warning, and its exposure is low', (t) => {
  if (!which('systemd-analyze')) {
    t.skip('systemd-analyze is not installed here: the parse test above checks the keys');
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tenancy-unit-'));
  try {
    // verify checks that ExecStart is executable: point it at this checkout's bin/tenancy.js
    const text = readFileSync(UNIT, 'utf8').replace(INSTALLED_BIN, path.resolve('bin/tenancy.js'));
    const verify = (name: string, body: string) => {
      const file = path.join(dir, name);
      writeFileSync(file, body);
      return spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    };
    const ok = verify('tenancy.service', text);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(
      ok.stderr
        .split('\n')
        .filter((l) => l.includes('tenancy.service'))
        .join('\n'),
      '',
    );
    // the same check notices a bad value, so the silence above means something
    const bad = verify('bad.service', text.replace('ProtectSystem=strict', 'ProtectSystem=bogus'));
    assert.match(bad.stderr, /bad\.service:\d+: Failed to parse protect system value/);
    const security = execFileSync('systemd-analyze', ['security', '--offline=yes', path.join(dir, 'tenancy.service')], {
      encoding: 'utf8',
    });
    const level = /Overall exposure level for tenancy\.service: ([\d.]+)/.exec(security);
    assert.ok(level, security);
    assert.ok(Number(level[1]) <= 2.5, `exposure ${level[1]} (10 = unprotected)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
