/**
 * The live dashboard (docs/dashboard.md): GET /dashboard (the page and its files), GET
 * /dashboard/api/state (the history, timeline and state as JSON), GET /dashboard/api/events
 * (server-sent events, one update a second), GET /dashboard/reports[/<run>/<file>] (the bench
 * reports). Read only: it reads the engine and the placement manager and changes nothing. All of
 * it is the "dashboard" API group (restricted-apis.ts).
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { DashboardSampler, type Update } from '../dashboard/sampler.js';
import { DEFAULT_REPORTS_DIR, listReports, loadAssets, readReport } from '../dashboard/files.js';
import { credentialCookie, queryParameter } from '../dashboard/credential.js';
import type { HttpContext } from './http-context.js';

export interface DashboardOptions {
  /** Bench report folders to link (default .tenancy/reports, from the working directory). */
  reportsDir?: string;
  /** Sampling interval, ms; default 1000. */
  intervalMs?: number;
}

/** Bytes a viewer may leave unread before its stream is ended (a snapshot is ~1 MB at most). */
const MAX_UNREAD_BYTES = 4 * 2 ** 20;

export function dashboardRoutes(app: FastifyInstance, ctx: HttpContext, options: DashboardOptions = {}): void {
  const sampler = new DashboardSampler(ctx.engine, ctx.placement, options.intervalMs);
  const reportsDir = path.resolve(options.reportsDir ?? DEFAULT_REPORTS_DIR);
  const assets = loadAssets();
  const streams = new Set<() => void>();
  app.addHook('onReady', async () => sampler.start());
  app.addHook('onClose', async () => {
    sampler.stop();
    for (const end of streams) end();
  });
  // The writes that explain a change (from when they arrive: a move shows while the request that
  // makes it runs). Latencies are the engine's (ModelView.latency), for every transport.
  const isWrite = (method: string, route: string | undefined) =>
    method !== 'GET' && (route === '/v2/placement' || route?.startsWith('/v2/repository/'));
  app.addHook('preHandler', async (req) => {
    if (isWrite(req.method, req.routeOptions.url)) sampler.writeStarted(req.id, req.method, req.url.split('?')[0]);
  });
  app.addHook('onResponse', async (req, reply) => {
    if (isWrite(req.method, req.routeOptions.url)) sampler.writeEnded(req.id, reply.statusCode);
  });

  const send = (name: string) => {
    const a = assets.get(name);
    if (!a) throw new Error(`dashboard asset ${name} missing`);
    return a;
  };
  app.get('/dashboard', async (req, reply) => {
    // The key in the address (already checked, app.ts): kept as a cookie, and out of the address bar.
    const key = ctx.restricted.required('dashboard');
    const given = key === null ? undefined : queryParameter(req.url, key);
    if (given !== undefined)
      return reply
        .code(303)
        .header('set-cookie', credentialCookie(given, req.protocol === 'https'))
        .header('location', '/dashboard')
        .send();
    const a = send('index.html');
    return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
  });
  app.get<{ Params: { file: string } }>('/dashboard/assets/:file', async (req, reply) => {
    const a = assets.get(req.params.file);
    if (!a || req.params.file === 'index.html')
      return reply.code(404).send({ error: `no such dashboard file: ${req.params.file}` });
    return reply.type(a.type).header('cache-control', 'max-age=300').send(a.body);
  });
  app.get('/dashboard/api/state', async () => ({ ...sampler.snapshot(), reports: await listReports(reportsDir) }));
  app.get('/dashboard/api/events', async (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let reportsAt = Date.now();
    const write = (text: string) => {
      if (res.destroyed || res.writableEnded) return end();
      // A viewer that stopped reading is cut off rather than buffered for: its browser reconnects.
      if (res.writableLength > MAX_UNREAD_BYTES) return end();
      res.write(text);
    };
    const onUpdate = (u: Update) => {
      if (ctx.closing()) return end();
      write(`data: ${JSON.stringify(u)}\n\n`);
      // The report list is read from disk every 10 s, not every second.
      if (Date.now() - reportsAt >= 10_000) {
        reportsAt = Date.now();
        void listReports(reportsDir).then((r) => write(`event: reports\ndata: ${JSON.stringify(r)}\n\n`));
      }
    };
    let unsubscribe = () => {};
    const end = () => {
      unsubscribe();
      streams.delete(end);
      if (!res.writableEnded && !res.destroyed) res.end();
    };
    streams.add(end);
    req.raw.once('close', end);
    res.once('close', end);
    res.on('error', end);
    const first = { ...sampler.snapshot(), reports: await listReports(reportsDir) };
    if (!streams.has(end)) return; // gone meanwhile
    write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(first)}\n\n`);
    unsubscribe = sampler.subscribe(onUpdate);
  });
  app.get('/dashboard/reports', async () => listReports(reportsDir));
  app.get<{ Params: { run: string; file: string } }>('/dashboard/reports/:run/:file', async (req, reply) => {
    const a = await readReport(reportsDir, req.params.run, req.params.file);
    if (!a) return reply.code(404).send({ error: `no such report file: ${req.params.run}/${req.params.file}` });
    return reply.type(a.type).send(a.body);
  });
  app.get<{ Params: { run: string } }>('/dashboard/reports/:run', async (req, reply) =>
    reply.redirect(`/dashboard/reports/${encodeURIComponent(req.params.run)}/index.html`),
  );
}
