export { ImagePipeline } from './pipeline.js';
export { decodeImage, fitHeightWidth, type Pixels } from './decode.js';
export { writePicture, pictureSize } from './normalize.js';
export { sniffFormat } from './sniff.js';
export {
  parseImageInput,
  resolveImageInput,
  DEFAULT_LIMITS,
  IMAGE_FORMATS,
  RESIZE_MODES,
  INTERPOLATIONS,
  type ImageInputConfig,
  type ResolvedImageInput,
  type ImageFormat,
  type ResizeMode,
  type ImageLimits,
} from './config.js';
