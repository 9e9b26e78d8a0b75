/** Public library API of tenancy. */
export {
  Engine,
  type EngineOptions,
  type InferOptions,
  type InferResult,
  type ModelStatistics,
  type ModelIndexEntry,
} from './engine/index.js';
export { TenancyError, type ErrorCode } from './errors.js';
export type { Tensor, TensorMap, DataType } from './tensor.js';
export { createLogger } from './log.js';
