/** Plain-text tables of what the engine has loaded, for the terminal. */
import type { Engine, LiveTuner, TuningMemory } from '../engine/index.js';
import { sqliteMissing } from '../sqlite.js';

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** One line per model version: state, instances, where they live, threads each. */
export function describeLoaded(engine: Engine): string {
  const rows = [['MODEL', 'VERSION', 'STATE', 'INSTANCES', 'DEVICE', 'HOST', 'THREADS', 'MAX BATCH', 'REASON']];
  const loaded = new Map(engine.loaded().map((m) => [`${m.name}:${m.version}`, m]));
  for (const row of engine.index()) {
    const m = loaded.get(`${row.name}:${row.version}`);
    rows.push([
      row.name,
      row.version || '-',
      row.state,
      m ? String(m.instances.length) : '0',
      m ? [...new Set(m.instances.map((i) => i.device))].join(',') : '-',
      m ? [...new Set(m.instances.map((i) => i.hostKind))].join(',') : '-',
      m ? m.instances.map((i) => i.threads).join('+') : '-',
      m ? String(m.config.max_batch_size) : '-',
      row.reason,
    ]);
  }
  return table(rows);
}

/** One line per choice the engine made where a model's config was silent (engine/serving-defaults.ts). */
export function describeDefaults(engine: Engine): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const m of engine.loaded()) {
    if (!m.defaults || seen.has(m.name)) continue;
    seen.add(m.name);
    for (const r of m.defaults.reasons) lines.push(`${m.name}: ${r}`);
  }
  return lines;
}

/** The engine's choices, under the table of what is loaded (then a blank line). */
export function printDefaults(engine: Engine): void {
  const chosen = describeDefaults(engine);
  if (chosen.length)
    console.log(
      '\nchosen by tenancy where the config is silent (a config that states them is served as written):\n' +
        `${chosen.map((l) => `  ${l}`).join('\n')}`,
    );
  console.log('');
}

/** The live tuner's state per model, then a blank line. */
export function printTuning(tuner: LiveTuner, memory: TuningMemory | null): void {
  // By name: the tuner tracks models in the order their loads ended (the ports are open meanwhile).
  const rows = tuner.status().sort((a, b) => a.model.localeCompare(b.model));
  if (!rows.length) return;
  const forgotten = sqliteMissing() ? 'not remembered: no SQLite driver' : 'not remembered: --profiles none';
  console.log(`live tuning (${memory ? `remembered in ${memory.store.file}` : forgotten}):`);
  for (const t of rows) console.log(`  ${t.model}: ${t.state}: ${t.why}`);
  console.log('');
}
