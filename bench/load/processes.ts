/**
 * The child processes of a load run: the built service and the two forked tools. Each is
 * stopped gently and then killed, and `killAllNow` covers an abrupt exit of the orchestrator
 * (it runs from process.on('exit'), where only synchronous work happens).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { isMessage } from './protocol.js';

const STOP_GRACE_MS = 5000;
/** The service drains (SHUTDOWN_DRAIN_S) and may write a CPU profile or heap snapshot on exit. */
const SERVICE_STOP_GRACE_MS = 15_000;
const TOOL_EXIT_GRACE_MS = 2000;
const HEALTH_POLL_MS = 100;
const LOG_LINES_KEPT = 8;

const running = new Set<ChildProcess>();

function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** SIGKILLs every child still running; synchronous, for exit paths. */
export function killAllNow(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Waits `graceMs` for the child to go by itself, then SIGTERM, then SIGKILL `killMs` later. */
async function stopChild(child: ChildProcess, graceMs = 0, killMs = STOP_GRACE_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const term = setTimeout(() => child.kill('SIGTERM'), graceMs);
  const kill = setTimeout(() => child.kill('SIGKILL'), graceMs + killMs);
  await exited;
  clearTimeout(term);
  clearTimeout(kill);
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no free port');
  return address.port;
}

/** Resolves when the child exits, with a description of how. */
function exitDescription(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`));
    child.once('error', (error) => resolve(`error ${error.message}`));
  });
}

/** A forked tool (fake or generator) speaking typed IPC messages. */
export class ToolProcess<In extends { kind: string }, Out extends { kind: string }> {
  readonly exited: Promise<string>;
  private readonly child: ChildProcess;

  constructor(
    readonly name: string,
    modulePath: string,
  ) {
    // 'advanced' serialization lets typed arrays cross IPC as they are.
    this.child = fork(modulePath, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [],
    });
    track(this.child);
    this.exited = exitDescription(this.child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** A no-op once the process has gone (its exit is reported through `exited`). */
  send(message: In): void {
    if (this.child.connected) this.child.send(message);
  }

  onMessage(handler: (message: Out) => void): void {
    this.child.on('message', (message: unknown) => {
      if (isMessage<Out>(message)) handler(message);
    });
  }

  /** The next message of one kind, failing if the process exits or time runs out first. */
  next<K extends Out['kind']>(kind: K, timeoutMs: number): Promise<Extract<Out, { kind: K }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: no ${kind} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.onMessage((message) => {
        if (message.kind !== kind) return;
        clearTimeout(timer);
        resolve(message as Extract<Out, { kind: K }>);
      });
      this.exited
        .then((how) => {
          clearTimeout(timer);
          reject(new Error(`${this.name} exited (${how}) before ${kind}`));
        })
        .catch(reject);
    });
  }

  /** Tools exit by themselves when the IPC channel closes; signals are the fallback. */
  async stop(): Promise<void> {
    if (this.child.connected) this.child.disconnect();
    await stopChild(this.child, TOOL_EXIT_GRACE_MS);
  }
}

/** The built service, `node dist/main.js`, as its own process. */
export class ServiceProcess {
  readonly exited: Promise<string>;
  logLines = 0;
  readonly lastLogLines: string[] = [];
  private readonly child: ChildProcess;
  private partial = '';

  constructor(
    mainJs: string,
    env: NodeJS.ProcessEnv,
    readonly baseUrl: string,
    nodeArgs: readonly string[] = [],
  ) {
    this.child = spawn(process.execPath, [...nodeArgs, mainJs], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(this.child);
    this.exited = exitDescription(this.child);
    this.child.stdout?.on('data', (chunk: Buffer) => this.collect(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => this.collect(chunk));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Waits for GET /health to answer and then for GET /health/ready not to say 503, as a load
   * balancer's readiness check would: a service still opening its history database (an embedded
   * one initialises its files on first use, seconds of CPU) is not sent calls yet, so that work
   * never lands in the measured window. A server without /health/ready (the naive bridge, the
   * floor, older builds) answers 404 there and counts as ready. Fails early if the service dies.
   */
  async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.isRunning) {
        throw new Error(`service exited during start-up (${await this.exited})${this.logTail()}`);
      }
      if ((await this.activeCalls()) !== null && (await this.isReady())) return;
      await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
    }
    throw new Error(`service not ready within ${timeoutMs} ms${this.logTail()}`);
  }

  private async isReady(): Promise<boolean> {
    try {
      const response = await fetch(`${this.baseUrl}/health/ready`, {
        signal: AbortSignal.timeout(2000),
      });
      await response.arrayBuffer();
      return response.status !== 503;
    } catch {
      return false;
    }
  }

  /** `activeCalls` from GET /health, or null when it does not answer. */
  async activeCalls(): Promise<number | null> {
    try {
      const response = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(2000) });
      if (!response.ok) return null;
      const body = (await response.json()) as { activeCalls?: unknown };
      return typeof body.activeCalls === 'number' ? body.activeCalls : null;
    } catch {
      return null;
    }
  }

  logTail(): string {
    return this.lastLogLines.length
      ? `\n  service log:\n    ${this.lastLogLines.join('\n    ')}`
      : '';
  }

  /**
   * SIGTERM: the service drains (SHUTDOWN_DRAIN_S, 1 s here) and exits 0, which also lets
   * `--cpu-prof` write its profile; SIGKILL only if that takes too long. Resolves with how it
   * exited.
   */
  async stop(): Promise<string> {
    await stopChild(this.child, 0, SERVICE_STOP_GRACE_MS);
    return this.exited;
  }

  private collect(chunk: Buffer): void {
    const lines = (this.partial + chunk.toString()).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      this.logLines++;
      this.lastLogLines.push(line.length > 300 ? `${line.slice(0, 300)}...` : line);
      if (this.lastLogLines.length > LOG_LINES_KEPT) this.lastLogLines.shift();
    }
  }
}
