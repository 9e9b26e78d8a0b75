#!/usr/bin/env node
/**
 * Lines at most 120 characters: the formatter (Biome, lineWidth 120) does not break string and
 * template literals or comments, so a long one would stay. Run by `npm run lint`.
 * Checks the *.ts, *.mjs, *.js and *.json files under src/, test/, benchmarks/, bin/ and scripts/
 * that git knows of: tracked ones, and new ones it does not ignore. Prints `file:line: N characters`
 * for every line over the limit and exits 1 if there is one.
 * Usage: node scripts/check-line-width.mjs
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const LIMIT = 120;
const FOLDERS = ['src', 'test', 'benchmarks', 'bin', 'scripts'];
const EXTENSIONS = /\.(ts|mjs|js|json)$/;
const SKIPPED = /(^|\/)package-lock\.json$/;

// paths relative to the repository root, wherever this is run from
process.chdir(fileURLToPath(new URL('..', import.meta.url)));

const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...FOLDERS], {
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
})
  .split('\0')
  .filter((f) => EXTENSIONS.test(f) && !SKIPPED.test(f) && existsSync(f));

const long = [];
for (const file of [...new Set(files)].sort()) {
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    // characters, not UTF-16 code units or bytes; a CRLF line's \r does not count
    const width = [...line.replace(/\r$/, '')].length;
    if (width > LIMIT) long.push(`${file}:${i + 1}: ${width} characters`);
  });
}
if (long.length) {
  console.error(long.join('\n'));
  console.error(
    `\n${long.length} line${long.length === 1 ? '' : 's'} over ${LIMIT} characters: ` +
      'split the string (`+` pieces or a named const) or re-wrap the comment',
  );
  process.exit(1);
}
