/**
 * A model's image pipeline: a BYTES tensor of encoded images (one per batch row) → the model's
 * numeric input tensor. The engine runs it before validation, so every front end (HTTP JSON and
 * binary, gRPC) gets it without logic of its own.
 *
 * BYTES elements from binary data (HTTP binary, gRPC raw or bytes contents) are the image's bytes;
 * elements that arrive as JSON strings are base64 (optionally a `data:image/...;base64,` URL),
 * since JSON cannot carry raw bytes.
 */
import { errors } from '../errors.js';
import { preview } from '../preview.js';
import type { BytesElement, Tensor, TensorMap } from '../tensor.js';
import type { ModelConfig } from '../repository/model-config.js';
import { resolveImageInput, type ResolvedImageInput } from './config.js';
import { decodeImage, loadSharp } from './decode.js';
import { pictureSize, writePicture } from './normalize.js';

const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;
const DATA_URL = /^data:[\w.+/-]*(;[\w=.-]+)*;base64,/;

export class ImagePipeline {
  readonly spec: ResolvedImageInput;
  private readonly model: string;
  private readonly maxBatchSize: number;
  /** Dimensions in front of the picture for a model without a batch dimension: [] or [1]. */
  private readonly lead: number[];

  /** The model's pipeline, or null when its config has no image_input. */
  static fromConfig(config: ModelConfig): ImagePipeline | null {
    return config.image_input ? new ImagePipeline(config) : null;
  }

  private constructor(config: ModelConfig) {
    const bad = (field: string, value: unknown, expected: string) =>
      errors.invalidConfig(config.name, field, value, expected);
    this.spec = resolveImageInput(config.image_input!, config.input, config.max_batch_size, bad);
    this.model = config.name;
    this.maxBatchSize = config.max_batch_size;
    const dims = config.input.find((i) => i.name === this.spec.input)!.dims;
    this.lead = dims.length > 3 ? [1] : [];
    // The decoder's library loads while the model does, not with its first picture (a failure to
    // load it is each request's error then).
    loadSharp().catch(() => {});
  }

  /** The input the pipeline feeds, when the request sends it as BYTES (encoded images). */
  applies(inputs: TensorMap): boolean {
    return inputs[this.spec.input]?.datatype === 'BYTES';
  }

  /** Decodes, resizes and normalizes every image of the request's BYTES input; returns the new inputs. */
  async run(inputs: TensorMap): Promise<TensorMap> {
    const name = this.spec.input;
    const t = inputs[name];
    const what = `input "${name}" of model "${this.model}"`;
    const images = this.images(t, what);
    const n = images.length;
    const per = pictureSize(this.spec);
    const data = this.spec.datatype === 'UINT8' ? new Uint8Array(n * per) : new Float32Array(n * per);
    await Promise.all(
      images.map(async (e, i) => {
        const label = `${what}: image ${i}`;
        const px = await decodeImage(toBytes(e, label), this.spec, label);
        writePicture(px, this.spec, data, i);
      }),
    );
    const [H, W] = this.spec.size;
    const C = this.spec.channels;
    const picture = this.spec.layout === 'NCHW' ? [C, H, W] : [H, W, C];
    const shape = this.maxBatchSize > 0 ? [n, ...picture] : [...this.lead, ...picture];
    return { ...inputs, [name]: { datatype: this.spec.datatype, shape, data } };
  }

  /** The BYTES elements: shape [n] or [n, 1], one image per batch row (exactly one without a batch dimension). */
  private images(t: Tensor, what: string): BytesElement[] {
    const list = t.data as BytesElement[];
    const n = list.length;
    const shapeOk =
      Array.isArray(t.shape) &&
      (t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1)) &&
      t.shape[0] === n;
    if (!shapeOk)
      throw errors.invalidArg(
        `${what}: BYTES images must have shape [n] or [n, 1], one image per batch row, ` +
          `got ${preview(t.shape)} for ${n} element(s)`,
      );
    const max = this.maxBatchSize > 0 ? this.maxBatchSize : 1;
    if (n < 1 || n > max)
      throw errors.invalidArg(
        `${what}: ${n} images, expected 1 to ${max}` +
          `${this.maxBatchSize > 0 ? ' (max_batch_size)' : ' (the model takes no batch dimension)'}`,
      );
    return list;
  }
}

/** A BYTES element → the image's bytes: binary elements as they are, strings from base64. */
function toBytes(e: BytesElement, what: string): Buffer {
  if (typeof e !== 'string') return Buffer.from(e.buffer, e.byteOffset, e.byteLength);
  const text = e.replace(DATA_URL, '').replace(/\s+/g, '');
  if (!BASE64.test(text) || text.length % 4 === 1)
    throw errors.invalidArg(
      `${what}: a string image must be base64 (JSON cannot carry raw bytes), ` +
        `got ${preview(e.slice(0, 24))}${e.length > 24 ? '...' : ''}`,
    );
  return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
}
