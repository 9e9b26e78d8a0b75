import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { classifierRepo, removeDir } from '../fixtures/repo.js';
import { HEAP_FLAGS } from '../../src/server/heap-flags.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function withoutLogFormat(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { TENANCY_LOG_FORMAT: _, ...rest } = env;
  return rest;
}

/** Runs the CLI from source until it exits; when stdout matches `until`, it gets a SIGTERM. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}, until?: RegExp): Promise<Run> {
  const child = spawn(process.execPath, [...HEAP_FLAGS, '--import', 'tsx', 'src/cli/main.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...withoutLogFormat(process.env), ...env },
  });
  let stdout = '';
  let stderr = '';
  let asked = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (until?.test(stdout) && !asked) {
      asked = true;
      // serve prints "serving;" a moment before its SIGTERM handler is installed (the live tuner
      // starts in between): a signal at once can meet the default action and end it unlogged
      setTimeout(() => child.kill('SIGTERM'), 500);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // a server that never gets there fails the test instead of hanging it
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr: signal ? `${stderr}\n(ended by ${signal})` : stderr });
    }),
  );
}

const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');
const records = (s: string) =>
  lines(s).flatMap((l) => {
    try {
      return [JSON.parse(l) as { level: number; time: number; msg: string }];
    } catch {
      return [];
    }
  });

test('serve --log-format json: every stdout line is a pino record, through start, serving and SIGTERM', async () => {
  const repo = await classifierRepo();
  try {
    const ports = ['--http-port', '0', '--grpc-port', '0', '--metrics-port', '0'];
    const args = ['serve', '--log-format', 'json', '--repo', repo, '--profiles', path.join(repo, 'p.db'), ...ports];
    const run = await cli(args, {}, /"msg":"serving; /);
    assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
    const out = lines(run.stdout);
    const recs = records(run.stdout);
    assert.equal(recs.length, out.length, `a stdout line is not JSON:\n${run.stdout}`);
    for (const r of recs) {
      assert.equal(typeof r.time, 'number');
      assert.equal(r.level, 30);
    }
    const msgs = recs.map((r) => r.msg);
    assert.ok(
      msgs.some((m) => m.startsWith(`loading ${repo}`)),
      msgs.join('\n'),
    );
    assert.ok(msgs.some((m) => /^HTTP\/REST {2}http:\/\/127\.0\.0\.1:\d+\/v2/.test(m)));
    assert.ok(msgs.includes('serving; Ctrl-C or SIGTERM stops after the requests in flight'));
    assert.ok(msgs.includes('SIGTERM: finishing requests in flight'));
    assert.equal(msgs.at(-1), 'stopped');
  } finally {
    await removeDir(repo);
  }
});

test('TENANCY_LOG_FORMAT=json: a failure is one pino record (level 50) on stderr and a non-zero exit', async () => {
  const run = await cli(['serve', '--repo', '/nonexistent/tenancy-repo', '--http-port', '0'], {
    TENANCY_LOG_FORMAT: 'json',
  });
  assert.equal(run.code, 2);
  const failures = records(run.stderr).filter((r) => r.level === 50);
  assert.equal(failures.length, 1, run.stderr);
  assert.match(failures[0].msg, /^error: model repository "\/nonexistent\/tenancy-repo" cannot be read/);
  assert.equal(records(run.stdout).length, lines(run.stdout).length, run.stdout);
});

test('the default format stays plain text, and an unknown format is refused with a non-zero exit', async () => {
  const plain = await cli(['serve', '--repo', '/nonexistent/tenancy-repo', '--http-port', '0']);
  assert.equal(plain.code, 2);
  assert.match(plain.stderr, /^error: model repository "\/nonexistent\/tenancy-repo" cannot be read/m);
  assert.equal(records(plain.stdout).length, 0, plain.stdout);
  const bad = await cli(['serve', '--log-format', 'xml']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--log-format <format>' argument 'xml' is invalid\. Allowed choices are text, json/);
});
