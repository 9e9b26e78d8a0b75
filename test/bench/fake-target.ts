/** A Target without a runtime: each request takes `latencyMs` (timers), at most `capacity` at once. */
import type { Target, TargetModel } from '../../src/bench/index.js';
import type { ModelStatistics } from '../../src/engine/index.js';

export class FakeTarget implements Target {
  readonly kind = 'engine' as const;
  readonly description = 'fake target';
  outstanding = 0;
  maxOutstanding = 0;
  sent: number[] = [];
  private running = 0;
  private waiting: (() => void)[] = [];
  private success = 0;
  private queueNs = 0;

  constructor(
    private readonly latencyMs: number,
    private readonly capacity = Infinity,
  ) {}

  async models() {
    return ['fake'];
  }
  async config() {
    return { name: 'fake', max_batch_size: 8 };
  }
  async load() {}
  async unload() {}
  async metadata(): Promise<TargetModel> {
    return { name: 'fake', maxBatchSize: 8, inputs: [{ name: 'x', datatype: 'FP32', dims: [4] }] };
  }

  async infer(): Promise<void> {
    this.sent.push(performance.now());
    this.outstanding++;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    const t0 = performance.now();
    if (this.running >= this.capacity) await new Promise<void>((r) => this.waiting.push(r));
    this.queueNs += (performance.now() - t0) * 1e6;
    this.running++;
    await new Promise((r) => setTimeout(r, this.latencyMs));
    this.running--;
    this.waiting.shift()?.();
    this.outstanding--;
    this.success++;
  }

  async statistics(): Promise<ModelStatistics> {
    const d = (ns: number) => ({ count: this.success, ns });
    return {
      name: 'fake',
      version: '1',
      last_inference: 0,
      inference_count: this.success,
      execution_count: this.success,
      inference_stats: {
        success: d(0),
        fail: { count: 0, ns: 0 },
        queue: d(this.queueNs),
        compute_input: d(0),
        compute_infer: d(this.success * this.latencyMs * 1e6),
        compute_output: d(0),
      },
      batch_stats: [],
    };
  }

  async instances() {
    return [];
  }
  async memory() {
    return { processRssBytes: 100 * 2 ** 20, outsideBytes: 0 };
  }
  async modelFile() {
    return null;
  }
  cores() {
    return 2;
  }
  async close() {}
}
