/**
 * The classification extension: an output asked for with `classification: k` comes back as BYTES
 * holding the top k classes of each batch row, "score:index:label" (":label" only when the model
 * has labels for that output), highest score first. Scores are printed with 6 decimals as Triton does.
 */
import { errors } from '../../errors.js';
import type { Tensor } from '../../tensor.js';

export function classify(
  t: Tensor,
  k: number,
  labels: readonly string[] | undefined,
  batched: boolean,
  what: string,
): Tensor {
  if (t.datatype === 'BYTES') throw errors.invalidArg(`${what}: classification needs a numeric output, it is BYTES`);
  const rows = batched ? (t.shape[0] ?? 1) : 1;
  const perRow = rows > 0 ? t.data.length / rows : 0;
  const take = Math.min(k, perRow);
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const scores = Array.from({ length: perRow }, (_, i) => Number(t.data[r * perRow + i]));
    const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
    for (const i of order.slice(0, take)) {
      const label = labels?.[i];
      out.push(`${scores[i].toFixed(6)}:${i}${label !== undefined ? `:${label}` : ''}`);
    }
  }
  return { datatype: 'BYTES', shape: batched ? [rows, take] : [take], data: out };
}
