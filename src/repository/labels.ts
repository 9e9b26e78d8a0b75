/** labels.txt → one label per line, for the classification extension. */
import { readFile } from 'node:fs/promises';

export async function readLabels(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
