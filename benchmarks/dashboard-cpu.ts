/**
 * npm run bench:dashboard-cpu: what the live dashboard costs the server's CPU at its one update a
 * second. The server (the default repository, as `tenancy serve` loads it, heap flags on) runs in
 * a child process that reports its own process.cpuUsage() (user + system, all its threads); the
 * parent only reads. Three settings, interleaved round by round so that the machine's drift falls
 * on all of them:
 *   off     the server started with dashboard: false (`tenancy serve --no-dashboard`);
 *   idle    dashboard on, nobody watching (the sampler still takes its sample a second);
 *   viewer  dashboard on, one viewer reading /dashboard/api/events and parsing every update as
 *           the page does (the viewer's own CPU is not counted: it is the parent).
 * No inference load: the figure is what the dashboard adds on its own. Prints each window's CPU
 * as a share of one core, the medians, and the viewer's cost over off. The windows' differences
 * are within the machine's noise at this size, so it also times one update directly: the
 * sampler's tick and its serialization, 500 in a row on the served engine, CPU ms each.
 * Each server is left SETTLE s after its start before a window begins, and the idle figure is the
 * mean of a window before and one after the viewer's, so that the start's after-effects and the
 * machine's drift do not fall on one setting only.
 * Options (env): DASHBOARD_CPU_SECONDS per window (default 30), DASHBOARD_CPU_ROUNDS (default 2),
 * DASHBOARD_CPU_SETTLE seconds (default 15).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Engine, PlacementManager } from '../src/engine/index.js';
import { startServers } from '../src/server/index.js';
import { HEAP_FLAGS } from '../src/server/heap-flags.js';
import { DEFAULT_REPOSITORY_DIR, ensureDefaultRepository } from '../src/default-repository.js';
import { DashboardSampler } from '../src/server/dashboard/sampler.js';

const SECONDS = Number(process.env.DASHBOARD_CPU_SECONDS ?? 30);
/** Wait after a server starts before measuring: the loads' garbage collection and compilation end. */
const SETTLE_S = Number(process.env.DASHBOARD_CPU_SETTLE ?? 15);
const settle = () => new Promise((r) => setTimeout(r, SETTLE_S * 1000));
const ROUNDS = Number(process.env.DASHBOARD_CPU_ROUNDS ?? 2);

interface Usage {
  cpuUs: number;
  wallMs: number;
}

type FromChild = { port: number } | { usage: Usage } | { perUpdateMs: { sample: number; serialize: number } };

/** CPU ms of one update, sampling and serializing apart: many in a row on the same engine, after a warm-up. */
function perUpdate(engine: Engine, placement: PlacementManager): { sample: number; serialize: number } {
  const sampler = new DashboardSampler(engine, placement);
  const runs = 500;
  for (let i = 0; i < 50; i++) JSON.stringify(sampler.tick());
  const updates = [];
  let t = process.cpuUsage();
  for (let i = 0; i < runs; i++) updates.push(sampler.tick());
  const sample = process.cpuUsage(t);
  t = process.cpuUsage();
  for (const u of updates) JSON.stringify(u);
  const serialize = process.cpuUsage(t);
  return {
    sample: (sample.user + sample.system) / 1000 / runs,
    serialize: (serialize.user + serialize.system) / 1000 / runs,
  };
}

async function serveChild(dashboard: boolean): Promise<void> {
  const repo = await ensureDefaultRepository(DEFAULT_REPOSITORY_DIR, () => {});
  const engine = new Engine({ repository: repo });
  await engine.loadAll();
  const placement = new PlacementManager(engine);
  const servers = await startServers(engine, {
    httpPort: 0,
    grpcPort: null,
    metricsPort: null,
    placement,
    dashboard: dashboard ? {} : false,
  });
  process.on('message', (m: string) => {
    if (m === 'usage') {
      const u = process.cpuUsage();
      process.send?.({ usage: { cpuUs: u.user + u.system, wallMs: performance.now() } } satisfies FromChild);
    } else if (m === 'per-update') process.send?.({ perUpdateMs: perUpdate(engine, placement) } satisfies FromChild);
    else if (m === 'stop') void servers.close().then(() => engine.close().then(() => process.exit(0)));
  });
  process.send?.({ port: servers.httpPort as number } satisfies FromChild);
}

class Server {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(dashboard: boolean): Promise<Server> {
    const child = fork(fileURLToPath(import.meta.url), ['--serve', dashboard ? 'on' : 'off'], {
      execArgv: ['--import', 'tsx', ...HEAP_FLAGS],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const [m] = (await once(child, 'message')) as [FromChild];
    if (!('port' in m)) throw new Error('the server did not say its port');
    return new Server(child, m.port);
  }

  async usage(): Promise<Usage> {
    this.child.send('usage');
    const [m] = (await once(this.child, 'message')) as [FromChild];
    if (!('usage' in m)) throw new Error('no usage');
    return m.usage;
  }

  async perUpdate(): Promise<{ sample: number; serialize: number }> {
    this.child.send('per-update');
    const [m] = (await once(this.child, 'message')) as [FromChild];
    if (!('perUpdateMs' in m)) throw new Error('no per-update figure');
    return m.perUpdateMs;
  }

  async stop(): Promise<void> {
    this.child.send('stop');
    await once(this.child, 'exit');
  }
}

/** One viewer: reads the event stream and parses each update, as the page does. Returns its bytes. */
function view(port: number): { stop(): Promise<{ updates: number; bytes: number }> } {
  const ac = new AbortController();
  let updates = 0;
  let bytes = 0;
  const reading = (async () => {
    const res = await fetch(`http://127.0.0.1:${port}/dashboard/api/events`, { signal: ac.signal });
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      buf += decoder.decode(chunk, { stream: true });
      let end = buf.indexOf('\n\n');
      while (end >= 0) {
        const data = buf
          .slice(0, end)
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        if (data) {
          JSON.parse(data);
          updates++;
        }
        buf = buf.slice(end + 2);
        end = buf.indexOf('\n\n');
      }
    }
  })().catch((err) => {
    if (!ac.signal.aborted) throw err;
  });
  return {
    async stop() {
      ac.abort();
      await reading;
      return { updates, bytes };
    },
  };
}

async function measure(server: Server, seconds: number): Promise<number> {
  const a = await server.usage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const b = await server.usage();
  return (b.cpuUs - a.cpuUs) / 1000 / (b.wallMs - a.wallMs);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (x: number) => `${(x * 100).toFixed(3)}%`;

async function main(): Promise<void> {
  const results: Record<'off' | 'idle' | 'viewer', number[]> = { off: [], idle: [], viewer: [] };
  let stream = { updates: 0, bytes: 0 };
  const costs: { sample: number; serialize: number }[] = [];
  console.log(`dashboard CPU: ${ROUNDS} rounds of ${SECONDS} s windows (CPU as a share of one core)`);
  for (let round = 1; round <= ROUNDS; round++) {
    const off = await Server.start(false);
    await settle();
    results.off.push(await measure(off, SECONDS));
    await off.stop();
    const on = await Server.start(true);
    await settle();
    // Idle windows before and after the viewer's: what the server drifts, both sides carry.
    const idleBefore = await measure(on, SECONDS);
    const viewer = view(on.port);
    await new Promise((r) => setTimeout(r, 2000));
    results.viewer.push(await measure(on, SECONDS));
    const got = await viewer.stop();
    await new Promise((r) => setTimeout(r, 2000));
    results.idle.push((idleBefore + (await measure(on, SECONDS))) / 2);
    stream = { updates: stream.updates + got.updates, bytes: stream.bytes + got.bytes };
    costs.push(await on.perUpdate());
    await on.stop();
    console.log(
      `round ${round}: off ${pct(results.off.at(-1)!)}, idle ${pct(results.idle.at(-1)!)} ` +
        `(mean of the windows before and after the viewer's), viewer ${pct(results.viewer.at(-1)!)}`,
    );
  }
  const [off, idle, viewer] = [median(results.off), median(results.idle), median(results.viewer)];
  console.log(`median: off ${pct(off)}, idle ${pct(idle)}, viewer ${pct(viewer)}`);
  console.log(
    `the dashboard with one viewer adds ${pct(viewer - off)} of one core over --no-dashboard ` +
      `(${pct(viewer - idle)} for the viewer, ${pct(idle - off)} for the sampler alone); ` +
      `${stream.updates} updates read, ${(stream.bytes / Math.max(1, stream.updates)).toFixed(0)} bytes each`,
  );
  const sample = median(costs.map((c) => c.sample));
  const serialize = median(costs.map((c) => c.serialize));
  console.log(
    `one update, 500 in a row after 50 to warm up (median of rounds): sampling ${sample.toFixed(3)} ms CPU, ` +
      `serializing ${serialize.toFixed(3)} ms: at one a second ${pct((sample + serialize) / 1000)} of one core`,
  );
}

if (process.argv[2] === '--serve') void serveChild(process.argv[3] === 'on');
else await main();
