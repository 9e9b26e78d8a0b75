/**
 * npm run bench:loopback-floor: what moving one MobileNet V2 input over loopback costs with nothing
 * else in the way, as a floor for bench:serve's remote modes. A bare node:http server (drains the
 * body, answers 4 KB, like the model's binary output) and a bare node:http client in a separate
 * process, keep-alive, 8 requests in flight, the same 602 112-byte body as bench:serve. Prints CPU
 * milliseconds per request of each side, first on an idle machine, then with one busy process per
 * core beside it (as the inference workers are during bench:serve: on a full machine every wake-up
 * of the other side waits for, or preempts, a busy core).
 * Options (env): FLOOR_SECONDS per measurement (default 3).
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const BODY = 3 * 224 * 224 * 4 + 200;
const REPLY = Buffer.alloc(4000 + 150, 1);
const SECONDS = Number(process.env.FLOOR_SECONDS ?? 3);
const CONCURRENCY = 8;

interface ClientResult {
  count: number;
  userMs: number;
  sysMs: number;
}

async function client(port: number): Promise<void> {
  const body = Buffer.alloc(BODY, 1);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request({ port, method: 'POST', agent, headers: { 'content-length': body.length } }, (res) => {
        res.on('data', () => {});
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
  const cpu0 = process.cpuUsage();
  const until = Date.now() + SECONDS * 1000;
  let count = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (Date.now() < until) {
      await one();
      count++;
    }
  }));
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  process.send!({ count, userMs: cpu.user / 1000, sysMs: cpu.system / 1000 } satisfies ClientResult);
}

async function measure(port: number, busy: number): Promise<string> {
  const spinners: ChildProcess[] = Array.from({ length: busy }, () => fork(self, ['spin']));
  await new Promise((r) => setTimeout(r, 200));
  const cpu0 = process.cpuUsage();
  const c = fork(self, ['client', String(port)]);
  const r = await new Promise<ClientResult>((resolve) => c.once('message', (m) => resolve(m as ClientResult)));
  const cpu = process.cpuUsage(cpu0);
  for (const s of spinners) s.kill();
  const per = (ms: number) => (ms / r.count).toFixed(3);
  return `${busy === 0 ? 'idle machine' : `${busy} busy processes`}: ${(r.count / SECONDS).toFixed(0)} requests/s; ms of CPU per request: server ${per((cpu.user + cpu.system) / 1000)} (user ${per(cpu.user / 1000)}, sys ${per(cpu.system / 1000)}), client ${per(r.userMs + r.sysMs)} (user ${per(r.userMs)}, sys ${per(r.sysMs)})`;
}

const self = fileURLToPath(import.meta.url);
const [role, arg] = process.argv.slice(2);
if (role === 'spin') {
  for (;;); // a busy core, like an inference worker
} else if (role === 'client') {
  await client(Number(arg));
} else {
  const server = http.createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => res.end(REPLY));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  console.log(`bare node:http over loopback, ${BODY}-byte requests, ${REPLY.length}-byte replies, ${CONCURRENCY} in flight, ${SECONDS} s each; ${os.cpus().length} cores, Node ${process.version}`);
  console.log(await measure(port, 0));
  console.log(await measure(port, os.cpus().length));
  server.close();
}
