/**
 * The dashboard's data, without a browser: the page and its files, GET /dashboard/api/state, the
 * server-sent events (a snapshot, then an update a second), and what they must show: every model
 * with its state (a failed one with its reason), numbers that move under load (p50/p99 under gRPC
 * load too: the engine times every transport), a placement change with its reason, a full queue,
 * a killed instance with the reason its host gave, the bench reports; off with dashboard: false,
 * behind its key when the group is restricted.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServers } from '../../src/server/index.js';
import {
  BROKEN,
  CRASHY,
  SMALL_QUEUE,
  TEXT_ORIENTATION,
  load,
  readEvents,
  serveDashboard,
  type DashboardServed,
} from './dashboard-fixture.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests read whatever JSON the server sends
type Json = any;

let s: DashboardServed;
before(async () => (s = await serveDashboard()));
after(() => s.close());

const model = (state: Json, name: string) => state.models.find((m: Json) => m.name === name);

test('the page, its files and uPlot are served; the state lists every model, a failed one with why', async () => {
  const page = await fetch(`${s.http}/dashboard`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  const html = await page.text();
  for (const asset of ['app.js', 'app.css', 'uplot.js', 'uplot.css']) {
    assert.ok(html.includes(`/dashboard/assets/${asset}`), `the page loads ${asset}`);
    const res = await fetch(`${s.http}/dashboard/assets/${asset}`);
    assert.equal(res.status, 200, asset);
    assert.ok((await res.arrayBuffer()).byteLength > 500, `${asset} has content`);
  }
  assert.equal((await fetch(`${s.http}/dashboard/assets/nope.js`)).status, 404);

  const body: Json = await (await fetch(`${s.http}/dashboard/api/state`)).json();
  assert.deepEqual(body.state.models.map((m: Json) => m.name).sort(), [BROKEN, CRASHY, SMALL_QUEUE, TEXT_ORIENTATION]);
  const broken = model(body.state, BROKEN);
  assert.equal(broken.state, 'UNAVAILABLE');
  assert.match(broken.reason, /\S{10,}/, 'the failure has its reason');
  assert.equal(broken.reason, s.engine.index().find((r) => r.name === BROKEN)?.reason);
  const ok = model(body.state, TEXT_ORIENTATION);
  assert.equal(ok.state, 'READY');
  assert.equal(ok.instances.length, 1);
  assert.equal(ok.instances[0].device, 'cpu');
  assert.equal(ok.instances[0].host, 'thread');
  const threads = s.engine.model(TEXT_ORIENTATION).instances[0].threads;
  assert.equal(ok.threads, threads);
  assert.equal(ok.instances[0].threads, threads);
  assert.equal(model(body.state, CRASHY).instances[0].host, 'process');
  assert.equal(model(body.state, SMALL_QUEUE).queueLimit, 1);
  assert.ok(body.state.devices.some((d: Json) => d.device === 'cpu' && d.cores === s.engine.cores));
  assert.ok(body.state.placement.some((e: Json) => e.model === TEXT_ORIENTATION && e.instances === 1));
});

test('the event stream sends a snapshot, then an update a second; under load the figures move', async () => {
  const traffic = load(s.http, TEXT_ORIENTATION, 4);
  const updates: Json[] = [];
  let snapshot: Json = null;
  try {
    await readEvents(`${s.http}/dashboard/api/events`, (event, data: Json) => {
      if (event === 'snapshot') snapshot = data;
      else if (event === 'message') updates.push(data);
      const busy = updates.filter((u) => u.sample.models[TEXT_ORIENTATION]?.inferences > 0);
      return busy.length >= 3;
    });
  } finally {
    await traffic.stop();
  }
  assert.ok(snapshot, 'a snapshot first');
  assert.ok(Array.isArray(snapshot.history) && Array.isArray(snapshot.timeline));
  assert.ok(traffic.counts().ok > 0);
  const gaps = updates.slice(1).map((u, i) => u.sample.t - updates[i].sample.t);
  for (const g of gaps) assert.ok(g > 700 && g < 1500, `updates about a second apart (got ${gaps.join(', ')} ms)`);
  const busy = updates.filter((u) => u.sample.models[TEXT_ORIENTATION]?.inferences > 0);
  for (const u of busy) {
    const m = u.sample.models[TEXT_ORIENTATION];
    assert.ok(m.p50Ms > 0 && m.p99Ms >= m.p50Ms, `p50 ${m.p50Ms} <= p99 ${m.p99Ms}`);
    assert.ok(m.computeMs > 0 && m.queueMs >= 0, `queue ${m.queueMs} ms, compute ${m.computeMs} ms`);
    assert.equal(u.sample.cpu.length, s.engine.cores > 0 ? u.sample.cpu.length : 0);
    assert.ok(u.sample.cpu.length >= 1 && u.sample.cpu.every((c: number) => c >= 0 && c <= 1));
    assert.ok(u.sample.memory.rssBytes > 0 && u.sample.memory.totalBytes > u.sample.memory.freeBytes);
  }
  // The figures are the engine's: the inferences of the busy seconds add up to no more than it counted.
  const counted = s.engine.stats(TEXT_ORIENTATION)[0].inference_count;
  const shown = busy.reduce((n, u) => n + u.sample.models[TEXT_ORIENTATION].inferences, 0);
  assert.ok(shown <= counted * 1.2 && shown > 0, `shown ${shown} inf over the seconds, counted ${counted}`);
});

test('gRPC requests move p50/p99 too (the engine times every transport); an idle second has none', async () => {
  const traffic = load(s.http, TEXT_ORIENTATION, 3, { grpc: s.grpc });
  // From a second after the load began: the seconds before may hold the end of earlier tests' HTTP load.
  const from = Date.now() + 1100;
  const busy: Json[] = [];
  try {
    await readEvents(`${s.http}/dashboard/api/events`, (event, data: Json) => {
      const m = event === 'message' && data.sample.t >= from ? data.sample.models[TEXT_ORIENTATION] : null;
      if (m?.success > 0) busy.push(m);
      return busy.length >= 3;
    });
  } finally {
    await traffic.stop();
  }
  const { ok, slowestMs } = traffic.counts();
  assert.ok(ok > 0, 'gRPC requests succeeded');
  for (const m of busy) {
    assert.ok(m.p50Ms > 0 && m.p99Ms >= m.p50Ms, `p50 ${m.p50Ms} <= p99 ${m.p99Ms} under gRPC load`);
    // A request's time in the engine is part of its time at the client: no percentile is above the
    // slowest the client saw (but for the histogram's half a bucket, 2.2%).
    assert.ok(m.p99Ms <= slowestMs * 1.03, `p99 ${m.p99Ms} ms, slowest at the client ${slowestMs.toFixed(2)} ms`);
  }
  // The figures are each second's, not since the start: a second without requests has none.
  let idle: Json = null;
  await readEvents(`${s.http}/dashboard/api/events`, (event, data: Json) => {
    const m = event === 'message' ? data.sample.models[TEXT_ORIENTATION] : null;
    if (m && m.success === 0 && m.fail === 0) idle = m;
    return Boolean(idle);
  });
  assert.equal(idle.p50Ms, null);
  assert.equal(idle.p99Ms, null);
});

test('a PUT /v2/placement appears in the timeline, with the request as its reason', async () => {
  const moves: Json[] = [];
  const watching = readEvents(`${s.http}/dashboard/api/events`, (event, data: Json) => {
    if (event !== 'message') return false;
    moves.push(...data.events.filter((e: Json) => e.kind === 'placement' && e.model === TEXT_ORIENTATION));
    return moves.some((e) => e.text.endsWith('-> cpu: 2 x 1 thread'));
  });
  watching.catch(() => {}); // awaited below; a failed PUT must not leave it unhandled
  const res = await fetch(`${s.http}/v2/placement`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ entries: [{ model: TEXT_ORIENTATION, device: 'cpu', instances: 2, threads: 1 }] }),
  });
  assert.equal(res.status, 200);
  await watching;
  // The move may show in steps (new instances join before the old ones leave): each names the request.
  assert.match(moves[0].text, /^cpu: 1 x \d threads? -> /);
  assert.match(moves.at(-1).text, / -> cpu: 2 x 1 thread$/);
  for (const m of moves) assert.match(m.reason, /^PUT \/v2\/placement( \(in progress\))?$/, m.text);
  const state: Json = await (await fetch(`${s.http}/dashboard/api/state`)).json();
  assert.ok(state.timeline.some((e: Json) => e.kind === 'placement' && e.reason.startsWith('PUT /v2/placement')));
  assert.equal(model(state.state, TEXT_ORIENTATION).instances.length, 2);
});

test('a full queue is flagged, and the requests it refuses are counted', async () => {
  const traffic = load(s.http, SMALL_QUEUE, 12);
  let full: Json = null;
  try {
    await readEvents(`${s.http}/dashboard/api/events`, (event, data: Json) => {
      if (event !== 'message') return false;
      const row = model(data.state, SMALL_QUEUE);
      if (row.queueFull && data.sample.models[SMALL_QUEUE].refused > 0) full = { row, sample: data.sample };
      return Boolean(full);
    });
  } finally {
    await traffic.stop();
  }
  assert.equal(full.row.queued, 1);
  assert.ok(traffic.counts().failed > 0, 'the server refused some requests (queue full)');
});

test('a kill -9 of a process host shows as restarting, and the timeline has the reason its host gave', async () => {
  const pid = s.engine.model(CRASHY).instances[0].pid;
  assert.ok(pid && pid !== process.pid, 'the crashy model runs in a child process');
  let restarting = false;
  let event: Json = null;
  const watching = readEvents(
    `${s.http}/dashboard/api/events`,
    (name, data: Json) => {
      if (name !== 'message') return false;
      if (model(data.state, CRASHY).restarting) restarting = true;
      event ??= data.events.find((e: Json) => e.kind === 'instance' && e.model === CRASHY);
      return Boolean(event) && (restarting || model(data.state, CRASHY).instances[0]?.state === 'ready');
    },
    30_000,
  );
  watching.catch(() => {});
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  await watching;
  assert.match(event.text, /^crashy:1#0 crashed; replacement crashy:1#1 (loading|warming|ready)$/);
  assert.equal(event.reason, `process ${pid} exited unexpectedly (signal SIGKILL)`);
  assert.ok(event.t >= killedAt && event.t <= Date.now(), 'at the time the engine learnt of it');
  // The engine's own record, which the dashboard read (ModelView.crashes).
  const crash = s.engine.model(CRASHY).crashes.at(-1);
  assert.deepEqual(
    { kind: crash?.kind, instance: crash?.instance, reason: crash?.reason },
    { kind: 'crash', instance: 'crashy:1#0', reason: event.reason },
  );
  const state: Json = await (await fetch(`${s.http}/dashboard/api/state`)).json();
  assert.ok(state.timeline.some((e: Json) => e.kind === 'instance' && e.reason === event.reason));
});

test('the bench reports are listed and served; nothing outside their folders is', async () => {
  const runs: Json = await (await fetch(`${s.http}/dashboard/reports`)).json();
  assert.deepEqual(
    runs.map((r: Json) => [r.run, r.files]),
    [['cme-20261204T120000', ['index.html', 'throughput.svg']]],
  );
  const page = await fetch(`${s.http}/dashboard/reports/cme-20261204T120000/index.html`);
  assert.equal(page.status, 200);
  assert.equal(await page.text(), '<h1>cme report</h1>');
  assert.match(
    (await fetch(`${s.http}/dashboard/reports/cme-20261204T120000/throughput.svg`)).headers.get('content-type') ?? '',
    /image\/svg\+xml/,
  );
  for (const bad of ['..%2F..%2Fetc/passwd', 'cme-20261204T120000/..%2F..%2Fpackage.json', '.x/index.html'])
    assert.equal((await fetch(`${s.http}/dashboard/reports/${bad}`)).status, 404, bad);
});

test('dashboard: false leaves /dashboard unserved; a restricted dashboard answers only with its key', async () => {
  const off = await startServers(s.engine, { httpPort: 0, grpcPort: null, metricsPort: null, dashboard: false });
  const locked = await startServers(s.engine, {
    httpPort: 0,
    grpcPort: null,
    metricsPort: null,
    restrictedHttp: [
      { groups: ['dashboard'], key: 'x-dash', value: 'secret' },
      { groups: ['placement'], key: 'x-admin', value: 'other' },
    ],
  });
  try {
    const res = await fetch(`http://127.0.0.1:${off.httpPort}/dashboard`);
    assert.equal(res.status, 404);
    assert.match((await res.json()).error, /no such endpoint: GET \/dashboard/);
    for (const p of ['/dashboard', '/dashboard/api/state', '/dashboard/api/events', '/dashboard/assets/app.js']) {
      const refused = await fetch(`http://127.0.0.1:${locked.httpPort}${p}`);
      assert.equal(refused.status, 403, p);
      assert.equal((await refused.json()).error, "This API is restricted, expecting header 'x-dash'");
    }
    const allowed = await fetch(`http://127.0.0.1:${locked.httpPort}/dashboard/api/state`, {
      headers: { 'x-dash': 'secret' },
    });
    assert.equal(allowed.status, 200);
    assert.ok((await allowed.json()).state.models.length === 4);
    // A browser: the key once in the address, then its cookie (the page, its files, the stream).
    const wrong = await fetch(`http://127.0.0.1:${locked.httpPort}/dashboard?x-dash=guess`, { redirect: 'manual' });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.headers.get('set-cookie'), null);
    const opened = await fetch(`http://127.0.0.1:${locked.httpPort}/dashboard?x-dash=secret`, { redirect: 'manual' });
    assert.equal(opened.status, 303);
    assert.equal(opened.headers.get('location'), '/dashboard');
    const cookie = (opened.headers.get('set-cookie') ?? '').split(';')[0];
    assert.match(opened.headers.get('set-cookie') ?? '', /HttpOnly; SameSite=Strict/);
    for (const p of ['/dashboard', '/dashboard/assets/app.js', '/dashboard/api/state', '/dashboard/reports'])
      assert.equal(
        (await fetch(`http://127.0.0.1:${locked.httpPort}${p}`, { headers: { cookie } })).status,
        200,
        `${p} with the cookie`,
      );
    await readEvents(`http://127.0.0.1:${locked.httpPort}/dashboard/api/events`, (e) => e === 'snapshot', 5000, {
      cookie,
    });
    const forged = await fetch(`http://127.0.0.1:${locked.httpPort}/dashboard/api/state`, {
      headers: { cookie: 'tenancy-dashboard=guess' },
    });
    assert.equal(forged.status, 403);
    // The cookie opens the dashboard only: the other groups still need their header.
    const placement = await fetch(`http://127.0.0.1:${locked.httpPort}/v2/placement`, {
      headers: { cookie: 'tenancy-dashboard=other' },
    });
    assert.equal(placement.status, 403);
  } finally {
    await off.close();
    await locked.close();
  }
});
