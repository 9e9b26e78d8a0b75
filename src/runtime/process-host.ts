/**
 * A host in a child process: the instance is isolated (a crash, or a kill -9, takes down only
 * itself), can be pinned to a CPU set, and has its own memory figure. Same protocol as a worker
 * thread, over Node's IPC channel with structured-clone serialization (typed arrays survive).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BaseHost, hostMainUrl, type ToHostMessage } from './host.js';

export interface ProcessHostOptions {
  /** CPU cores the process may run on (Linux taskset); all when omitted. */
  cpus?: number[];
  /** Keep the process's stderr (the last 4 KB, in `stderrText`) instead of passing it to ours. */
  captureStderr?: boolean;
}

export class ProcessHost extends BaseHost {
  readonly kind = 'process' as const;
  label: string;
  private readonly child: ChildProcess;
  /** What the process wrote on stderr, with captureStderr (the last 4 KB). */
  stderrText = '';

  constructor(options: ProcessHostOptions = {}) {
    super();
    const url = hostMainUrl();
    const entry = fileURLToPath(url);
    const nodeArgs = [...(url.pathname.endsWith('.ts') ? ['--import', 'tsx'] : []), entry];
    const [cmd, args] = options.cpus?.length
      ? ['taskset', ['-c', options.cpus.join(','), process.execPath, ...nodeArgs]]
      : [process.execPath, nodeArgs];
    const stderr = options.captureStderr ? 'pipe' : 'inherit';
    this.child = spawn(cmd, args, { stdio: ['ignore', 'inherit', stderr, 'ipc'], serialization: 'advanced' });
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderrText = (this.stderrText + d).slice(-4096);
    });
    this.label = `process ${this.child.pid}`;
    this.child.on('message', (m) => this.onMessage(m as never));
    this.child.on('error', (e) => this.onExit(`could not start: ${e.message}`));
    this.child.on('exit', (code, signal) =>
      this.onExit(`exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`})`),
    );
  }

  protected post(msg: ToHostMessage): void {
    if (this.child.connected) this.child.send(msg);
  }

  protected async end(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    if (!this.closing) this.child.kill('SIGKILL');
    const grace = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(grace);
  }
}
