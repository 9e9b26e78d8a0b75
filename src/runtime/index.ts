export { ModelInstance, type InstanceState, type InstanceOptions, type RunResult } from './instance.js';
export { splitThreads, type ThreadRequest } from './thread-budget.js';
export type { Session, SessionOptions, SessionTensorInfo } from './session.js';
export type { HostKind } from './host.js';
export { preciseNow, type WarmupRun } from './host-protocol.js';
export {
  cpuDevice,
  inventory,
  probeGpu,
  readDevicesFile,
  validateDevicesFile,
  type Device,
  type DevicesFile,
  type InventoryOptions,
} from './devices.js';
export type { SimulatedModel } from './sim-session.js';
export { runtimeVersion } from './runtime-version.js';
export { DEFAULT_SHARE_WEIGHTS } from './shared-weights.js';
