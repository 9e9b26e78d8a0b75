/**
 * Model control mode "poll", as tritonserver's --model-control-mode=poll with
 * --repository-poll-secs: the repository folder says what is served. Every interval the folder is
 * scanned; a model folder that appeared is loaded, one that went is unloaded, and one whose files
 * changed (a new version folder, a new model file, an edited config or label file) is loaded again.
 * A reload starts the new versions and lets them take requests before the old ones drain
 * (Engine.load), so updating an edge box by copying files drops no request.
 *
 * A model is compared by a fingerprint of its folder: every file's path, size and modification
 * time. A load that fails keeps its fingerprint, so it is tried again only when the files change
 * (a copy still in progress fails, and is retried once it has finished).
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { scanRepositories, type RepositoryPaths } from '../repository/index.js';
import type { Engine } from './engine.js';

/** Files per model folder that are fingerprinted at most (a folder is a model, not a dataset). */
const MAX_FILES = 4096;

export interface PollChange {
  model: string;
  action: 'load' | 'reload' | 'unload';
  /** Null when it worked; else why not. */
  error: string | null;
}

export class RepositoryPoller {
  private readonly seen = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<PollChange[]> | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly options: { intervalMs: number; log?: Logger; onChange?: (c: PollChange) => void },
  ) {}

  /** Takes the folder as it is now as what is served (call after the start's loadAll). */
  async baseline(): Promise<void> {
    for (const [name, print] of await fingerprints(this.engine.repositories)) this.seen.set(name, print);
  }

  start(): void {
    const tick = () => {
      this.timer = setTimeout(async () => {
        await this.poll().catch((err) => this.options.log?.error({ err: (err as Error).message }, 'poll failed'));
        if (this.timer) tick();
      }, this.options.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** One scan: applies what changed since the last one and returns it. Scans never overlap. */
  poll(): Promise<PollChange[]> {
    this.running ??= this.scan().finally(() => (this.running = null));
    return this.running;
  }

  private async scan(): Promise<PollChange[]> {
    const now = await fingerprints(this.engine.repositories);
    const changes: PollChange[] = [];
    const apply = async (model: string, action: PollChange['action'], work: () => Promise<void>) => {
      const change: PollChange = { model, action, error: null };
      await work().catch((err: Error) => (change.error = err.message));
      changes.push(change);
      this.options.onChange?.(change);
    };
    for (const [model, print] of now) {
      const before = this.seen.get(model);
      if (before === print) continue;
      this.seen.set(model, print);
      await apply(model, before === undefined ? 'load' : 'reload', () => this.engine.load(model));
    }
    for (const model of [...this.seen.keys()])
      if (!now.has(model)) {
        this.seen.delete(model);
        // A model that failed to load is in the index too: its row goes to "unloaded".
        if (this.engine.index().some((r) => r.name === model && r.reason !== 'unloaded'))
          await apply(model, 'unload', () => this.engine.unload(model));
      }
    return changes;
  }
}

/**
 * Each model's fingerprint over every repository: a name in two folders (which fails to load) has
 * both folders' files in it, so mending either one is a change.
 */
async function fingerprints(dirs: RepositoryPaths): Promise<Map<string, string>> {
  const prints = new Map<string, string>();
  for (const e of await scanRepositories(dirs)) {
    const before = prints.get(e.name);
    const print = `${e.dir}\n${await fingerprint(e.dir)}`;
    prints.set(e.name, before === undefined ? print : `${before}\n${print}`);
  }
  return prints;
}

/** Every file under `dir` as "path size mtime", sorted: equal exactly when no file changed. */
async function fingerprint(dir: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const d of await readdir(at, { withFileTypes: true }).catch(() => [])) {
      if (lines.length >= MAX_FILES) return;
      const full = path.join(at, d.name);
      if (d.isDirectory()) await walk(full);
      else if (d.isFile()) {
        const s = await stat(full).catch(() => null);
        if (s) lines.push(`${path.relative(dir, full)} ${s.size} ${s.mtimeMs}`);
      }
    }
  };
  await walk(dir);
  return lines.sort().join('\n');
}
