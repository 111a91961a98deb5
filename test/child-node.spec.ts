import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { CHILD_NODE_IMPORTS } from './support/child-node.js';
import { sleep, waitUntil } from './support/wait.js';

// What every Node process a test starts runs under (test/support/child-node.ts): it must end
// when the test's process is gone, and never keep alive a process that would end by itself.

/** Alive and not a zombie waiting for a reaper. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * A stand-in for a Jest worker: a process that starts a long-lived Node child with `imports`,
 * passes on the child's output, and stays until it is killed. Resolves once the child runs its
 * own code (its imports loaded), with the child's pid.
 */
async function workerWithChild(imports: string[]) {
  const child = `console.log(process.pid); setInterval(() => {}, 1000);`;
  const script = `
    const { spawn } = require('node:child_process');
    spawn(process.execPath, [...${JSON.stringify(imports)}, '-e', ${JSON.stringify(child)}], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    setInterval(() => {}, 1000);`;
  const worker = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(worker.stdout, 'data')) as [Buffer];
  return { worker, childPid: Number(line.toString().trim()) };
}

describe('the Node processes a test starts', () => {
  const leftovers: number[] = [];
  afterAll(() => {
    for (const pid of leftovers) if (running(pid)) process.kill(pid, 'SIGKILL');
  });

  it('exit when the process that started them is killed', async () => {
    const { worker, childPid } = await workerWithChild(CHILD_NODE_IMPORTS);
    leftovers.push(childPid);
    expect(running(childPid)).toBe(true);
    worker.kill('SIGKILL');
    await waitUntil(() => !running(childPid), 'the orphaned child to exit', 5_000);
  });

  it('would outlive it without the parent watch (the control)', async () => {
    const { worker, childPid } = await workerWithChild([]);
    leftovers.push(childPid);
    worker.kill('SIGKILL');
    await once(worker, 'exit');
    await sleep(1_500);
    expect(running(childPid)).toBe(true);
  });

  it('never keep alive a process that ends by itself', () => {
    const started = Date.now();
    const result = spawnSync(
      process.execPath,
      [...CHILD_NODE_IMPORTS, '-e', 'console.log("done")'],
      {
        encoding: 'utf8',
        timeout: 10_000,
      },
    );
    expect(result.stdout.trim()).toBe('done');
    expect(result.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
