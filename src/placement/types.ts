/** The planner's inputs and outputs: profiles, device capacities, demand, and the plan. */

/** One measured configuration of a model on a device (from the profiler, or a simulated device's table). */
export interface ProfilePoint {
  /** Instances of the model on the device: its concurrency level there. */
  instances: number;
  /** Intra-op threads per instance (1 for a simulated accelerator). */
  threads: number;
  /** Dynamic batching: the largest batch and the queue delay, µs; null = none. */
  batching: { maxBatchSize: number; delayUs: number } | null;
  /** Inferences/s measured with this configuration alone on the device. */
  throughput: number;
  /** 99th percentile latency measured with it, ms. */
  p99Ms: number;
  /** Resident memory each instance adds, bytes. */
  memoryPerInstance: number;
}

export interface ModelProfile {
  model: string;
  device: string;
  points: ProfilePoint[];
}

export interface DeviceCapacity {
  /** e.g. "cpu", "cpu:big", "sim:edgetpu". */
  device: string;
  /** Cores the instances on it may use together (threads x instances); 0 = the device spends no CPU. */
  cores: number;
  /** Memory budget for instances on it, bytes. */
  memoryBytes: number;
  /** Most instances it runs at once (accelerators); Infinity when only cores and memory limit it. */
  maxInstances: number;
  simulated: boolean;
}

export interface Demand {
  model: string;
  /** Relative importance of the model's inferences; default 1. */
  weight?: number;
  /** Inferences/s beyond which more throughput is worth nothing; default unlimited. */
  targetRate?: number;
  /** Configurations whose p99 latency exceeds this are not used, ms. */
  p99LimitMs?: number;
}

export interface PlacementEntry {
  model: string;
  device: string;
  instances: number;
  threads: number;
  batching: ProfilePoint['batching'];
  /** From the profile: what this part of the placement is expected to deliver, inferences/s. */
  expectedThroughput: number;
}

export interface Plan {
  entries: PlacementEntry[];
  /** Weighted throughput the plan is expected to deliver (capped by target rates). */
  objective: number;
  method: 'exact' | 'greedy';
  /** Why: the figures that decided it, one line each. */
  reasons: string[];
}
