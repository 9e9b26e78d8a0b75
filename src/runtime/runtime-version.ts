/** The ONNX Runtime build the sessions use, as stored profiles and tunings name it (a new version measures again). */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

let cached: string | undefined;

export function runtimeVersion(): string {
  if (cached) return cached;
  try {
    const require = createRequire(import.meta.url);
    const pkg = JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as {
      version: string;
    };
    cached = `onnxruntime-node ${pkg.version}`;
  } catch {
    cached = 'onnxruntime-node (version unknown)';
  }
  return cached;
}
