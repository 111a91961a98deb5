import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { CHILD_NODE_IMPORTS } from './child-node.js';
import { offlineEnv } from './no-internet.js';
import { freePort } from './redis-server.js';
import { waitUntil } from './wait.js';

/**
 * The built service (`node dist/main.js`, as operators and the container run it) as a child
 * process on a free loopback port, its output kept for assertions.
 */
export class ServiceProcess {
  private output = '';

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /**
   * Starts it and waits until it listens (or has exited, for start-up failures). `script`: a
   * fixture that runs the built service with modules of its own (test/fixtures/). `cwd`: where it
   * runs (a copy of the service, as the container test lays one out).
   */
  static async start(
    env: Record<string, string>,
    timeoutMs = 30_000,
    script = 'dist/main.js',
    cwd?: string,
  ): Promise<ServiceProcess> {
    const port = env.PORT ? Number(env.PORT) : await freePort();
    const child = spawn(process.execPath, [...CHILD_NODE_IMPORTS, script], {
      cwd,
      // HISTORY off unless a test asks: see test/support/bridge.ts.
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        HISTORY: 'off',
        ...offlineEnv(env),
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(child, port);
    try {
      await waitUntil(
        () => /listening on port/.test(service.output) || child.exitCode !== null,
        `the service (${env.INSTANCE_ID ?? 'bridge'}) to start`,
        timeoutMs,
      );
    } catch (error) {
      // The caller never gets it to kill: a start that timed out must not leave it running.
      await service.kill();
      throw error;
    }
    return service;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get logs(): string {
    return this.output;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Log lines (pino JSON) parsed; other lines skipped. */
  jsonLines(): Record<string, unknown>[] {
    return this.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  async waitForExit(timeoutMs = 20_000): Promise<number | null> {
    if (!this.exited) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          once(this.child, 'exit'),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error('the service did not exit in time')),
              timeoutMs,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    }
    return this.child.exitCode;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.exited) return;
    this.child.kill(signal);
    if (signal === 'SIGKILL') await once(this.child, 'exit');
  }
}
