/**
 * Prometheus metrics with Triton's names and labels (`model`, `version`), so existing dashboards
 * work, plus tenancy_* gauges for instances and memory and the request latency histogram. Every
 * value is read from the engine (stats(), loaded()) when scraped: the inference path is not
 * instrumented twice.
 */
import http from 'node:http';
import type { ConnectionLimits } from './connection-limits.js';
import os from 'node:os';
import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import { powerOfTwoBuckets, type Engine, type LiveTuner, type ModelStatistics } from '../engine/index.js';

type StatPick = (s: ModelStatistics) => number;

const COUNTERS: [string, string, StatPick][] = [
  [
    'nv_inference_request_success',
    'Number of successful inference requests, all batch sizes',
    (s) => s.inference_stats.success.count,
  ],
  [
    'nv_inference_request_failure',
    'Number of failed inference requests, all batch sizes',
    (s) => s.inference_stats.fail.count,
  ],
  ['nv_inference_count', 'Number of inferences performed (a batch of n counts n)', (s) => s.inference_count],
  ['nv_inference_exec_count', 'Number of model executions performed', (s) => s.execution_count],
  [
    'nv_inference_request_duration_us',
    'Cumulative inference request duration in microseconds (queue and compute)',
    (s) => (s.inference_stats.success.ns + s.inference_stats.fail.ns) / 1e3,
  ],
  [
    'nv_inference_queue_duration_us',
    'Cumulative inference queuing duration in microseconds',
    (s) => s.inference_stats.queue.ns / 1e3,
  ],
  [
    'nv_inference_compute_input_duration_us',
    'Cumulative compute input duration in microseconds',
    (s) => s.inference_stats.compute_input.ns / 1e3,
  ],
  [
    'nv_inference_compute_infer_duration_us',
    'Cumulative compute inference duration in microseconds',
    (s) => s.inference_stats.compute_infer.ns / 1e3,
  ],
  [
    'nv_inference_compute_output_duration_us',
    'Cumulative inference compute output duration in microseconds',
    (s) => s.inference_stats.compute_output.ns / 1e3,
  ],
];

/** Busy fraction of all cores since the previous scrape (since boot at the first). */
function cpuSampler(): () => number {
  let last = cpuTimes();
  return () => {
    const now = cpuTimes();
    const total = now.total - last.total;
    const busy = total - (now.idle - last.idle);
    last = now;
    return total > 0 ? busy / total : 0;
  };
}

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of os.cpus()) {
    idle += c.times.idle;
    total += c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
  }
  return { idle, total };
}

export function createMetricsRegistry(engine: Engine, tuner?: LiveTuner): Registry {
  const registry = new Registry();
  const labels = (s: { name: string; version: string | number }) => ({ model: s.name, version: String(s.version) });
  for (const [name, help, pick] of COUNTERS) {
    new Counter({
      name,
      help,
      labelNames: ['model', 'version'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of engine.stats()) this.inc(labels(s), pick(s));
      },
    });
  }
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill(this);
      },
    });

  registry.registerMetric(latencyHistogram(engine, labels));

  gauge(
    'nv_inference_pending_request_count',
    'Instantaneous number of pending requests awaiting execution per model',
    ['model', 'version'],
    (g) => {
      for (const m of engine.loaded()) g.set(labels(m), m.queued + m.inflight);
    },
  );
  const cpu = cpuSampler();
  gauge('nv_cpu_utilization', 'CPU utilization rate [0.0 - 1.0]', [], (g) => g.set(cpu()));
  gauge('nv_cpu_memory_total_bytes', 'CPU total memory (RAM), in bytes', [], (g) => g.set(os.totalmem()));
  gauge('nv_cpu_memory_used_bytes', 'CPU used memory (RAM), in bytes', [], (g) => g.set(os.totalmem() - os.freemem()));

  gauge(
    'tenancy_model_instances',
    'Instances of a model version per device and host kind',
    ['model', 'version', 'device', 'host'],
    (g) => {
      for (const m of engine.loaded()) {
        const per = new Map<string, { device: string; host: string; n: number }>();
        for (const i of m.instances) {
          const key = `${i.device}\0${i.hostKind}`;
          const e = per.get(key) ?? { device: i.device, host: i.hostKind, n: 0 };
          e.n++;
          per.set(key, e);
        }
        for (const e of per.values()) g.set({ ...labels(m), device: e.device, host: e.host }, e.n);
      }
    },
  );
  gauge(
    'tenancy_model_configuration',
    "Who chose a model version's instances and batching: " +
      'source "config" (as its config states or a placement set it), ' +
      '"defaults" (the engine, where the config is silent), ' +
      '"stored" (the live tuner, at an earlier start) or "tuner" (the live tuner, now)',
    ['model', 'version', 'source'],
    (g) => {
      for (const m of engine.loaded()) g.set({ ...labels(m), source: m.defaults?.source ?? 'config' }, 1);
    },
  );
  if (tuner) {
    gauge(
      'tenancy_model_tuning_state',
      "The live tuner's state of a model (1 for the current state): fixed, default, tuning, tuned or stored",
      ['model', 'state'],
      (g) => {
        for (const t of tuner.status()) g.set({ model: t.model, state: t.state }, 1);
      },
    );
    gauge(
      'tenancy_model_tuned_throughput',
      'Inferences/s a model served at its current configuration, as the live tuner last measured it under busy load',
      ['model'],
      (g) => {
        for (const t of tuner.status()) if (t.throughput !== null) g.set({ model: t.model }, t.throughput);
      },
    );
  }
  gauge(
    'tenancy_instance_state',
    'Instance lifecycle state (1 for the current state)',
    ['model', 'version', 'instance', 'state'],
    (g) => {
      for (const m of engine.loaded())
        for (const i of m.instances) g.set({ ...labels(m), instance: i.name, state: i.state }, 1);
    },
  );
  gauge(
    'tenancy_instance_threads',
    'Runtime intra-op threads of an instance',
    ['model', 'version', 'instance'],
    (g) => {
      for (const m of engine.loaded())
        for (const i of m.instances) g.set({ ...labels(m), instance: i.name }, i.threads);
    },
  );
  gauge(
    'tenancy_instance_memory_bytes',
    'Resident memory of an instance with its own process, bytes',
    ['model', 'version', 'instance'],
    (g) => {
      for (const m of engine.loaded())
        for (const i of m.instances)
          if (i.memoryBytes !== undefined) g.set({ ...labels(m), instance: i.name }, i.memoryBytes);
    },
  );
  gauge('tenancy_model_queued_requests', 'Requests waiting in a model version queue', ['model', 'version'], (g) => {
    for (const m of engine.loaded()) g.set(labels(m), m.queued);
  });
  gauge(
    'tenancy_process_resident_memory_bytes',
    'Resident memory of the server process (thread-hosted instances included), bytes',
    [],
    (g) => g.set(process.memoryUsage.rss()),
  );
  return registry;
}

/** Histogram buckets from 2^6 us (64 us) up: below that, one bucket is enough. */
const FIRST_OCTAVE = 6;

/**
 * The engine's latency histogram of each model version (ModelView.latency) as a Prometheus
 * histogram. Triton keeps request latency as counters (`nv_inference_request_duration_us`) and,
 * opt-in, summaries (`nv_inference_request_summary_us`) and histograms (`*_histogram_ms`), but no
 * request duration histogram: this one is tenancy's, in Triton's unit (us). Its `le` bounds are
 * powers of two of microseconds, which are bounds of the engine's buckets, so the counts are
 * exact; `histogram_quantile()` gives percentiles over any window. prom-client's Histogram only
 * observes values one by one, so this is a metric of its own that the registry asks when scraped.
 */
function latencyHistogram(
  engine: Engine,
  labels: (s: { name: string; version: number }) => { model: string; version: string },
): Metric {
  const name = 'tenancy_inference_request_duration_us';
  const help =
    'Histogram of successful inference request durations in microseconds (queue and compute, every transport)';
  const get = async () => ({
    name,
    help,
    type: 'histogram' as const,
    aggregator: 'sum' as const,
    values: engine.loaded().flatMap((m) => {
      const l = labels(m);
      const s = m.latency.snapshot();
      return [
        ...powerOfTwoBuckets(s, FIRST_OCTAVE).map((b) => ({
          metricName: `${name}_bucket`,
          labels: { ...l, le: b.leUs },
          value: b.count,
        })),
        { metricName: `${name}_bucket`, labels: { ...l, le: '+Inf' }, value: s.count },
        { metricName: `${name}_sum`, labels: l, value: s.sumMs * 1000 },
        { metricName: `${name}_count`, labels: l, value: s.count },
      ];
    }),
  });
  // The registry reads name, help, type and get() (and reset() on clear): what this object has.
  return { name, help, type: 'histogram', get, reset() {} } as unknown as Metric;
}

/**
 * Serves GET /metrics from the registry on its own port, as Triton does (8002), under the HTTP
 * server's connection limits.
 */
export function createMetricsServer(registry: Registry, limits: ConnectionLimits): http.Server {
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    (req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: `no such endpoint: ${req.method} ${req.url}; metrics are at GET /metrics` }));
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: Error) =>
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.message })),
      );
    },
  );
  server.maxConnections = limits.maxConnections;
  return server;
}
