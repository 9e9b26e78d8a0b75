/**
 * The `image_input` section of a model's config.json: which model input takes images, which
 * encodings are accepted, how they are resized and normalized, and the limits that keep a bad
 * image from hurting the server. Validated in two steps, as the rest of the config: the fields
 * alone (parseImageInput), then against the model's completed input (resolveImageInput), which
 * also fills the defaults that come from the input (size, layout, channels, datatype).
 */
import { fromConfigType } from '../tensor.js';
/** What the image pipeline reads of a model input (repository/model-config.ts's TensorConfig has it). */
export interface ModelInputInfo {
  name: string;
  data_type: string;
  dims: number[];
}

export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'raw'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export const RESIZE_MODES = ['stretch', 'shorter_side_center_crop', 'letterbox', 'fit_height_pad_right'] as const;
/**
 * stretch: to exactly size, aspect ratio not kept. shorter_side_center_crop: scale so the image
 * covers size, crop the centre. letterbox: scale so the image fits inside size, centre it, fill the
 * rest with pad_value. fit_height_pad_right: PaddleOCR's text classifier/recognizer resize: scale
 * to the target height keeping the aspect ratio (width capped at the target width), left-aligned,
 * the rest of the row zeros in the output tensor.
 */
export type ResizeMode = (typeof RESIZE_MODES)[number];

export const INTERPOLATIONS = ['nearest', 'linear', 'cubic', 'lanczos3'] as const;
export type Interpolation = (typeof INTERPOLATIONS)[number];

export type ColorOrder = 'RGB' | 'BGR' | 'GRAY';
export type Layout = 'NCHW' | 'NHWC';
export type PixelDataType = 'FP32' | 'UINT8';

export interface ImageLimits {
  /** Largest encoded (or raw) image, bytes. Default 16 MiB. */
  max_bytes: number;
  /** Largest decoded image, width x height, checked from the header before decoding. Default 25 000 000. */
  max_pixels: number;
}

/** image_input as written (fields the model input can supply may be absent). */
export interface ImageInputConfig {
  /** The model input the images feed; default: the model's only input. */
  input?: string;
  /** Accepted encodings. Default ["jpeg", "png", "webp"]; "raw" needs raw_shape. */
  formats: ImageFormat[];
  /** [height, width, channels] of raw pixel data (8-bit, interleaved, in `color` order). */
  raw_shape?: number[];
  resize: ResizeMode;
  interpolation: Interpolation;
  /** [height, width] of the model's picture; default from the input dims. */
  size?: number[];
  color?: ColorOrder;
  /** Pixel (0-255) multiplier before mean/std. Default 1/255 (FP32). */
  scale?: number;
  /** Per channel (or one for all), subtracted after scale. Default 0. */
  mean?: number[];
  /** Per channel (or one for all), divides after mean. Default 1. */
  std?: number[];
  layout?: Layout;
  datatype?: PixelDataType;
  /** letterbox fill, a pixel value 0-255 (before normalization). Default 0. */
  pad_value: number;
  limits: ImageLimits;
}

/** image_input with every default filled in from the model input: what the pipeline runs. */
export interface ResolvedImageInput extends Required<Omit<ImageInputConfig, 'raw_shape'>> {
  raw_shape?: number[];
  /** 1 (GRAY) or 3. */
  channels: number;
}

export const DEFAULT_LIMITS: ImageLimits = { max_bytes: 16 * 2 ** 20, max_pixels: 25_000_000 };
// `channels` is filled in from the model input; it is accepted back so that a completed config
// (GET .../config, or a reload that changes instance groups) validates again.
const KNOWN = [
  'input',
  'formats',
  'raw_shape',
  'resize',
  'interpolation',
  'size',
  'color',
  'scale',
  'mean',
  'std',
  'layout',
  'datatype',
  'pad_value',
  'limits',
  'channels',
];

type Bad = (field: string, value: unknown, expected: string) => Error;
type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number): v is number => Number.isInteger(v) && (v as number) >= min;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const oneOf = <T extends string>(v: unknown, list: readonly T[]): v is T =>
  typeof v === 'string' && (list as readonly string[]).includes(v);

/** Checks the fields of image_input on their own; `bad` names the config file in errors. */
export function parseImageInput(raw: unknown, bad: Bad): ImageInputConfig {
  const f = 'image_input';
  if (!isObj(raw)) throw bad(f, raw, 'must be an object');
  for (const k of Object.keys(raw))
    if (!KNOWN.includes(k)) throw bad(`${f}.${k}`, raw[k], `is not a known field (known: ${KNOWN.join(', ')})`);
  if (raw.input !== undefined && (typeof raw.input !== 'string' || raw.input === ''))
    throw bad(`${f}.input`, raw.input, 'must name a model input');
  const formats = raw.formats ?? ['jpeg', 'png', 'webp'];
  if (!Array.isArray(formats) || formats.length === 0 || !formats.every((x) => oneOf(x, IMAGE_FORMATS)))
    throw bad(`${f}.formats`, formats, `must be a non-empty list of ${IMAGE_FORMATS.map((x) => `"${x}"`).join(', ')}`);
  const raw_shape = raw.raw_shape;
  if (
    raw_shape !== undefined &&
    (!Array.isArray(raw_shape) ||
      raw_shape.length !== 3 ||
      !isInt(raw_shape[0], 1) ||
      !isInt(raw_shape[1], 1) ||
      ![1, 3].includes(raw_shape[2] as number))
  )
    throw bad(`${f}.raw_shape`, raw_shape, 'must be [height, width, channels] with channels 1 or 3');
  if (formats.includes('raw') !== (raw_shape !== undefined))
    throw bad(
      `${f}.raw_shape`,
      raw_shape,
      formats.includes('raw') ? 'is needed when formats has "raw"' : 'is only for formats with "raw"',
    );
  const resize = raw.resize ?? 'stretch';
  if (!oneOf(resize, RESIZE_MODES))
    throw bad(`${f}.resize`, resize, `must be one of ${RESIZE_MODES.map((x) => `"${x}"`).join(', ')}`);
  const interpolation = raw.interpolation ?? 'linear';
  if (!oneOf(interpolation, INTERPOLATIONS))
    throw bad(`${f}.interpolation`, interpolation, `must be one of ${INTERPOLATIONS.map((x) => `"${x}"`).join(', ')}`);
  if (
    raw.size !== undefined &&
    (!Array.isArray(raw.size) || raw.size.length !== 2 || !raw.size.every((d) => isInt(d, 1)))
  )
    throw bad(`${f}.size`, raw.size, 'must be [height, width] in pixels');
  if (raw.color !== undefined && !oneOf(raw.color, ['RGB', 'BGR', 'GRAY'] as const))
    throw bad(`${f}.color`, raw.color, 'must be "RGB", "BGR" or "GRAY"');
  if (raw.scale !== undefined && (!isNum(raw.scale) || raw.scale <= 0))
    throw bad(`${f}.scale`, raw.scale, 'must be a number > 0');
  for (const k of ['mean', 'std'] as const) {
    const v = raw[k];
    if (
      v !== undefined &&
      (!Array.isArray(v) ||
        (v.length !== 1 && v.length !== 3) ||
        !v.every(isNum) ||
        (k === 'std' && v.some((x) => x === 0)))
    )
      throw bad(`${f}.${k}`, v, `must be a list of 1 or 3 numbers${k === 'std' ? ' other than 0' : ''}`);
  }
  if (raw.layout !== undefined && !oneOf(raw.layout, ['NCHW', 'NHWC'] as const))
    throw bad(`${f}.layout`, raw.layout, 'must be "NCHW" or "NHWC"');
  if (raw.datatype !== undefined && !oneOf(raw.datatype, ['FP32', 'UINT8'] as const))
    throw bad(`${f}.datatype`, raw.datatype, 'must be "FP32" or "UINT8"');
  if (raw.channels !== undefined && raw.channels !== 1 && raw.channels !== 3)
    throw bad(`${f}.channels`, raw.channels, 'must be 1 or 3');
  const pad_value = raw.pad_value ?? 0;
  if (!isInt(pad_value, 0) || pad_value > 255)
    throw bad(`${f}.pad_value`, pad_value, 'must be a pixel value from 0 to 255');
  return {
    ...(raw.input !== undefined ? { input: raw.input as string } : {}),
    formats: formats as ImageFormat[],
    ...(raw_shape !== undefined ? { raw_shape: raw_shape as number[] } : {}),
    resize,
    interpolation,
    ...pick(raw, ['size', 'color', 'scale', 'mean', 'std', 'layout', 'datatype', 'channels']),
    pad_value,
    limits: limits(raw.limits, bad),
  } as ImageInputConfig;
}

function pick(raw: Json, keys: string[]): Json {
  return Object.fromEntries(keys.filter((k) => raw[k] !== undefined).map((k) => [k, raw[k]]));
}

function limits(v: unknown, bad: Bad): ImageLimits {
  const f = 'image_input.limits';
  if (v === undefined) return { ...DEFAULT_LIMITS };
  if (!isObj(v)) throw bad(f, v, 'must be an object with max_bytes and/or max_pixels');
  for (const k of Object.keys(v))
    if (!(k in DEFAULT_LIMITS)) throw bad(`${f}.${k}`, v[k], 'is not a known field (known: max_bytes, max_pixels)');
  const out = { ...DEFAULT_LIMITS };
  for (const k of ['max_bytes', 'max_pixels'] as const) {
    if (v[k] === undefined) continue;
    if (!isInt(v[k], 1)) throw bad(`${f}.${k}`, v[k], 'must be an integer >= 1');
    out[k] = v[k] as number;
  }
  return out;
}

/**
 * The completed image_input as the config stores (and the config endpoint shows) it: every field,
 * in one fixed order, so a config read back and loaded again compares equal to the loaded one.
 */
export function completedImageInput(r: ResolvedImageInput): ImageInputConfig {
  return {
    input: r.input,
    formats: r.formats,
    ...(r.raw_shape ? { raw_shape: r.raw_shape } : {}),
    resize: r.resize,
    interpolation: r.interpolation,
    size: r.size,
    color: r.color,
    scale: r.scale,
    mean: r.mean,
    std: r.std,
    layout: r.layout,
    datatype: r.datatype,
    pad_value: r.pad_value,
    limits: { max_bytes: r.limits.max_bytes, max_pixels: r.limits.max_pixels },
  };
}

/**
 * Checks image_input against the model's (completed) inputs and fills what the input decides: the
 * picture's size and layout from the dims ([C, H, W] or [H, W, C] after the batch dimension), the
 * channels, the datatype. Throws through `bad` naming the field when they disagree.
 */
export function resolveImageInput(
  cfg: ImageInputConfig,
  inputs: ModelInputInfo[],
  maxBatchSize: number,
  bad: Bad,
): ResolvedImageInput {
  const f = 'image_input';
  if (cfg.input === undefined && inputs.length !== 1)
    throw bad(
      `${f}.input`,
      cfg.input,
      `must name the model input that takes images (inputs: ${inputs.map((i) => i.name).join(', ')})`,
    );
  const name = cfg.input ?? inputs[0].name;
  const input = inputs.find((i) => i.name === name);
  if (!input)
    throw bad(`${f}.input`, name, `must name a model input (inputs: ${inputs.map((i) => i.name).join(', ')})`);
  const dims = input.dims;
  const image = dims.slice(-3);
  const lead = dims.slice(0, -3);
  // One picture per batch row: [C,H,W] / [H,W,C] after the batch dimension, or [1|-1, C,H,W] without one.
  if (image.length !== 3 || lead.length > (maxBatchSize > 0 ? 0 : 1) || lead.some((d) => d !== 1 && d !== -1))
    throw bad(
      `${f}.input`,
      name,
      `must be an image input: dims [C, H, W] or [H, W, C]${maxBatchSize > 0 ? '' : ' (or with a leading 1)'}, ` +
        `but "${name}" has dims [${dims.join(', ')}]`,
    );
  const chw = image[0] === 1 || image[0] === 3;
  const hwc = image[2] === 1 || image[2] === 3;
  const layout = cfg.layout ?? (chw ? 'NCHW' : hwc ? 'NHWC' : undefined);
  if (!layout || (layout === 'NCHW' ? !chw : !hwc))
    throw bad(
      `${f}.layout`,
      cfg.layout ?? null,
      `must fit input "${name}" dims [${dims.join(', ')}]: channels (1 or 3) first for NCHW, last for NHWC`,
    );
  const [c, h, w] = layout === 'NCHW' ? image : [image[2], image[0], image[1]];
  const given = (cfg as { channels?: number }).channels;
  if (given !== undefined && given !== c)
    throw bad(`${f}.channels`, given, `must be the ${c} channel(s) of input "${name}"`);
  const color = cfg.color ?? (c === 1 ? 'GRAY' : 'RGB');
  if ((color === 'GRAY') !== (c === 1))
    throw bad(
      `${f}.color`,
      color,
      `must ${c === 1 ? 'be "GRAY"' : 'be "RGB" or "BGR"'} for input "${name}" with ${c} channel(s)`,
    );
  const size = cfg.size ?? [h, w];
  if (size[0] < 1 || size[1] < 1)
    throw bad(
      `${f}.size`,
      cfg.size ?? null,
      `is needed: input "${name}" has dynamic height or width (dims [${dims.join(', ')}])`,
    );
  if ((h !== -1 && h !== size[0]) || (w !== -1 && w !== size[1]))
    throw bad(`${f}.size`, size, `must match input "${name}" height and width [${h}, ${w}]`);
  const modelType = fromConfigType(input.data_type);
  const datatype = cfg.datatype ?? (modelType === 'UINT8' ? 'UINT8' : 'FP32');
  if (modelType !== datatype)
    throw bad(
      `${f}.datatype`,
      datatype,
      `must be the datatype of input "${name}" (${modelType}): FP32 or UINT8 inputs only`,
    );
  if (
    datatype === 'UINT8' &&
    ((cfg.scale ?? 1) !== 1 || cfg.mean?.some((v) => v !== 0) || cfg.std?.some((v) => v !== 1))
  )
    throw bad(`${f}.datatype`, datatype, 'takes pixels as they are: leave scale, mean and std out');
  for (const k of ['mean', 'std'] as const) {
    const v = cfg[k];
    if (v && v.length !== 1 && v.length !== c)
      throw bad(`${f}.${k}`, v, `must have 1 or ${c} values (one per channel)`);
  }
  if (cfg.raw_shape && cfg.raw_shape[2] !== c)
    throw bad(`${f}.raw_shape`, cfg.raw_shape, `must have ${c} channel(s) as input "${name}"`);
  const fill = (v: number[] | undefined, d: number) =>
    v ? (v.length === 1 ? Array(c).fill(v[0]) : v) : Array(c).fill(d);
  return {
    ...cfg,
    input: name,
    size,
    layout,
    color,
    channels: c,
    datatype,
    scale: cfg.scale ?? (datatype === 'FP32' ? 1 / 255 : 1),
    mean: fill(cfg.mean, 0),
    std: fill(cfg.std, 1),
  };
}
