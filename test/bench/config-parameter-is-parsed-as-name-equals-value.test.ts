import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseConfigParameter } from '../../src/cli/bench.js';
import { runtimeDefaults, withInstances, withParameters } from '../../src/bench/config-overrides.js';
import { defaultBenchOptions } from '../../src/bench/index.js';
import { classifierRepo, removeDir } from '../fixtures/repo.js';

const run = promisify(execFile);
const bench = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'bench', ...args]).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

test('--config-parameter NAME=VALUE repeats, keeps later names, and takes the value after the first "="', () => {
  let p = parseConfigParameter('share_weights=false', {});
  p = parseConfigParameter(' enable_mem_pattern =0', p);
  p = parseConfigParameter('note=a=b', p);
  p = parseConfigParameter('empty=', p);
  p = parseConfigParameter('share_weights=true', p);
  assert.deepEqual(p, { share_weights: 'true', enable_mem_pattern: '0', note: 'a=b', empty: '' });
});

test('a --config-parameter without "=" or without a name is a usage error (exit 2) naming the value', () => {
  for (const bad of ['share_weights', '=false', ' =x', ''])
    assert.throws(
      () => parseConfigParameter(bad, {}),
      (err: Error & { exitCode?: number }) =>
        err.exitCode === 2 && err.message.includes(`expected NAME=VALUE`) && err.message.includes(JSON.stringify(bad)),
      bad,
    );
  assert.throws(() => defaultBenchOptions({ configParameters: { ' ': '1' } }), /a config parameter needs a name/);
});

test("the parameters go over the model's own, and the baseline's runtime defaults over them", () => {
  const config = { name: 'm', parameters: { source: { string_value: 'zoo' }, share_weights: { string_value: '1' } } };
  const base = withParameters(config, { share_weights: 'false', intra_op_thread_count: '1' });
  assert.deepEqual(base.parameters, {
    source: { string_value: 'zoo' },
    share_weights: { string_value: 'false' },
    intra_op_thread_count: { string_value: '1' },
  });
  assert.equal(config.parameters.share_weights.string_value, '1', 'the original is not changed');
  assert.deepEqual(withInstances(base, 3).parameters, base.parameters);
  assert.deepEqual(runtimeDefaults(base, 4).parameters, {
    ...(base.parameters as object),
    intra_op_thread_count: { string_value: '4' },
    enable_spinning: { string_value: '1' },
  });
});

test('tenancy bench ends with exit 2 and one line for a malformed flag or a value the engine refuses', async () => {
  const malformed = await bench(['cme', '--config-parameter', 'share_weights', '--no-db']);
  assert.equal(malformed.code, 2);
  assert.match(
    malformed.stderr,
    /--config-parameter .*expected NAME=VALUE such as share_weights=false, got "share_weights"/,
  );

  const repo = await classifierRepo();
  try {
    const refused = await bench([
      'cme',
      '--repo',
      repo,
      '--config-parameter',
      'share_weights=maybe',
      '--no-db',
      '--quiet',
      '--no-plain-baseline',
      '--window-ms',
      '100',
      '--out',
      `${repo}/report`,
    ]);
    assert.equal(refused.code, 2, refused.stderr);
    const line =
      'error: text_orientation (config override): field "parameters.share_weights.string_value" ' +
      'must be "0", "1", "true" or "false", got "maybe"\n';
    assert.ok(refused.stderr.startsWith(line), refused.stderr);
    assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    await removeDir(repo);
  }
});
