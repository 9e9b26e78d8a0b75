import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { GrpcClient, HttpClient } from '../../src/client/index.js';
import { classifierInput } from '../fixtures/repo.js';
import { serveClassifier, TEXT_ORIENTATION, OUTPUT } from './serve-fixture.js';

const dir = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const pem = (name: string) => readFileSync(dir + name);
const ca = pem('ca.crt');
const client = { rootCert: ca, cert: pem('client.crt'), key: pem('client.key') };

test('HTTPS and gRPC over TLS serve the same numbers; plain and untrusted clients are turned away', async () => {
  const s = await serveClassifier({
    httpTls: { cert: pem('server.crt'), key: pem('server.key') },
    grpcTls: { cert: pem('server.crt'), key: pem('server.key'), rootCert: ca, mutual: true },
  });
  const https = new HttpClient(`https://localhost:${s.servers.httpPort}`, { ca });
  const grpcs = new GrpcClient(`localhost:${s.servers.grpcPort}`, { ssl: client });
  const insecure = new GrpcClient(s.grpc);
  const noClientCert = new GrpcClient(`localhost:${s.servers.grpcPort}`, { ssl: { rootCert: ca } });
  try {
    const input = { x: classifierInput(2) };
    const viaHttps = await https.infer(TEXT_ORIENTATION, input);
    const viaGrpcs = await grpcs.infer(TEXT_ORIENTATION, input);
    assert.deepEqual(viaHttps.outputs[OUTPUT].shape, [2, 2]);
    assert.deepEqual([...viaGrpcs.outputs[OUTPUT].data], [...viaHttps.outputs[OUTPUT].data], 'same numbers both ways');

    // Plain HTTP on the HTTPS port gets no answer of ours; a client that does not trust the CA stops.
    await assert.rejects(fetch(`http://127.0.0.1:${s.servers.httpPort}/v2/health/ready`));
    await assert.rejects(new HttpClient(`https://localhost:${s.servers.httpPort}`).ready(), {
      message: /self[- ]signed|unable to (get|verify)/i,
    });
    // gRPC: an insecure channel, and a TLS one without a client certificate (mutual TLS), are refused.
    await assert.rejects(insecure.ready(), { status: 14 });
    await assert.rejects(noClientCert.ready(), { status: 14 });
    assert.equal(await grpcs.ready(), true, 'the refusals changed nothing');
  } finally {
    https.close();
    for (const c of [grpcs, insecure, noClientCert]) c.close();
    await s.close();
  }
});

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

test(
  'tenancy serve: TLS and restriction flags that cannot ' + 'work end in one line and exit 2, before loading',
  async () => {
    const cases: [string[], RegExp][] = [
      [['--http-use-ssl'], /^error: --http-use-ssl needs --http-server-cert <file> and --http-server-key <file>\n$/],
      [['--grpc-server-cert', 'x.pem'], /^error: --grpc-server-cert, --grpc-server-key, .* need --grpc-use-ssl\n$/],
      [
        ['--grpc-use-ssl', '--grpc-server-cert', '/nonexistent.pem', '--grpc-server-key', `${dir}server.key`],
        /^error: --grpc-server-cert: cannot read \/nonexistent.pem \(ENOENT\)\n$/,
      ],
      [
        ['--http-use-ssl', '--http-server-cert', `${dir}README.md`, '--http-server-key', `${dir}server.key`],
        /^error: --http-server-cert: .*README.md is not a PEM file/,
      ],
      [['--http-restricted-api', 'repository:k=v'], /unknown API group "repository"/],
    ];
    for (const [flags, message] of cases) {
      const out = await run(process.execPath, [
        '--import',
        'tsx',
        cli,
        'serve',
        '--repo',
        '/nonexistent-repo',
        ...flags,
      ]).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => err,
      );
      assert.equal(out.code, 2, `${flags.join(' ')}: exit code`);
      assert.match(out.stderr, message, flags.join(' '));
      assert.doesNotMatch(out.stderr, /\n\s+at /, 'no stack trace');
    }
  },
);
