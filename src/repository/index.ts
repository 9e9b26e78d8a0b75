export {
  scanRepository,
  readModelDefinition,
  type RepositoryEntry,
  type ModelDefinition,
  type VersionDefinition,
} from './scan.js';
export {
  scanRepositories,
  modelNames,
  locateModel,
  describeRepositories,
  type RepositoryPaths,
} from './repositories.js';
export {
  validateModelConfig,
  completeFromOnnx,
  tensorDataType,
  runtimeParameters,
  type ModelConfig,
  type TensorConfig,
  type InstanceGroupConfig,
  type RuntimeParameters,
  type WarmupSample,
} from './model-config.js';
export { readWarmupData, WARMUP_FOLDER, type WarmupFileData } from './warmup-data.js';
export { readOnnxMetadata, parseOnnxMetadata, type OnnxMetadata, type OnnxTensorInfo } from './onnx-metadata.js';
export { readLabels } from './labels.js';
export { checkModelName, isModelName } from './model-name.js';
