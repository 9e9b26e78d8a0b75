/** Messages between the bench and its plain-session process (plain-session-main.ts). */

/** A tensor as onnxruntime-node takes it: its type name ("float32", ...), data and shape. */
export interface PlainTensor {
  type: string;
  data: unknown;
  shape: number[];
}

export type PlainToChild =
  /** Create the session from `file` with no options; `inputs` are the request inputs, used in turn. */
  | { type: 'load'; file: string; inputs: Record<string, PlainTensor>[] }
  | { type: 'start' }
  /** Hand over the latencies of the runs completed since the last take. */
  | { type: 'take' }
  | { type: 'stop' };

export type PlainFromChild =
  | { type: 'loaded'; rssBytes: number }
  | { type: 'started' }
  /** `atMs` on the child's clock, `cpuUs` its CPU time so far (user + system). */
  | { type: 'taken'; latenciesMs: number[]; atMs: number; cpuUs: number; rssBytes: number }
  | { type: 'stopped' }
  | { type: 'error'; message: string };
