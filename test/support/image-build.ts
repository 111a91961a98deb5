import dockerignore from '@balena/dockerignore';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import type { CopyStep, Stage } from './dockerfile.js';

// `docker build` without Docker: the build context laid out as the CLI sends it, then each stage's
// steps run in a directory of its own standing for the stage's filesystem (image paths map below
// it). The base image's own files are not there: RUN uses this machine's `node` and `npm`.

/** Longest a single RUN step (e.g. `npm ci`) may take. */
const RUN_TIMEOUT_MS = 240_000;
/** Output kept from a failed RUN step for the error message. */
const FAILED_OUTPUT_CHARS = 4_000;

/**
 * Copies into `into` what `docker build` sends from `root`: every file that .dockerignore does not
 * exclude (Docker's own matching rules, exceptions included). Returns the copied paths.
 */
export function layOutContext(root: string, into: string): string[] {
  const ignoreFile = join(root, '.dockerignore');
  const rules = existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8').split('\n') : [];
  // A CommonJS module whose typings declare `export default`: from ES modules, that is `.default`.
  const excluded = dockerignore.default().add(rules);
  // As Docker does: an excluded directory is skipped whole unless some `!` rule may re-include
  // something below it.
  const hasExceptions = rules.some((rule) => rule.trim().startsWith('!'));
  const copied: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of readdirSync(join(root, relative), { withFileTypes: true })) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      const isExcluded = excluded.ignores(path);
      if (entry.isDirectory()) {
        if (!isExcluded || hasExceptions) walk(path);
      } else if (!isExcluded) {
        mkdirSync(join(into, relative), { recursive: true });
        cpSync(join(root, path), join(into, path), { verbatimSymlinks: true });
        copied.push(path);
      }
    }
  };
  walk('');
  return copied;
}

/**
 * The environment RUN steps get besides their stage's ENV, as the base image and the builder
 * would give them: this machine's `node` first on PATH, and its network settings (proxy, CA
 * bundle, npm's user config and cache), without what the test runner set for itself (Jest's
 * NODE_OPTIONS, NODE_ENV, npm's per-script variables).
 */
export function runEnvironment(): Record<string, string> {
  const kept = Object.entries(process.env).filter(
    ([name, value]) =>
      value !== undefined &&
      !/^(NODE_OPTIONS|NODE_ENV|INIT_CWD|JEST_WORKER_ID)$/.test(name) &&
      (!name.startsWith('npm_') || /^npm_config_(cache|userconfig|registry|cafile)$/.test(name)),
  ) as [string, string][];
  const env = Object.fromEntries(kept);
  env.PATH = `${dirname(process.execPath)}:${env.PATH ?? ''}`;
  return env;
}

/** A built stage: its filesystem, working directory (an image path) and environment. */
export interface BuiltStage {
  root: string;
  workdir: string;
  env: Record<string, string>;
}

/** Runs the stages of one Dockerfile in order, each in `<base>/<stage name>`. */
export class StageBuilder {
  private readonly built = new Map<string, BuiltStage>();

  /** `hostEnv`: what RUN steps get besides the stage's ENV (see runEnvironment). */
  constructor(
    private readonly base: string,
    private readonly context: string,
    private readonly hostEnv: Record<string, string>,
  ) {}

  async build(stage: Stage, log: (line: string) => void = () => {}): Promise<BuiltStage> {
    const state: BuiltStage = { root: join(this.base, stage.name), workdir: '/', env: {} };
    mkdirSync(state.root, { recursive: true });
    for (const step of stage.steps) {
      if (step.kind === 'WORKDIR') {
        state.workdir = posix.resolve(state.workdir, step.path);
        mkdirSync(this.onDisk(state, state.workdir), { recursive: true });
      } else if (step.kind === 'ENV') {
        Object.assign(state.env, step.vars);
      } else if (step.kind === 'COPY') {
        this.copy(state, step);
      } else {
        log(`RUN ${step.command.join(' ')}`);
        await this.run(state, step.command);
      }
    }
    this.built.set(stage.name, state);
    return state;
  }

  /** Where an image path of a stage lies on this machine. */
  onDisk(stage: BuiltStage, imagePath: string): string {
    return join(stage.root, posix.resolve(stage.workdir, imagePath));
  }

  private copy(state: BuiltStage, step: CopyStep): void {
    const fromStage = step.from === undefined ? undefined : this.built.get(step.from);
    if (step.from !== undefined && !fromStage)
      throw new Error(`COPY --from=${step.from}: no such stage`);
    const dest = this.onDisk(state, step.dest);
    const intoDirectory = step.dest.endsWith('/') || step.sources.length > 1;
    for (const source of step.sources) {
      const from = fromStage
        ? join(fromStage.root, posix.resolve('/', source))
        : join(this.context, posix.normalize(source));
      if (!existsSync(from))
        throw new Error(
          fromStage
            ? `COPY --from=${step.from} ${source}: not found in that stage`
            : `COPY ${source}: not found in the build context (missing, or excluded by .dockerignore)`,
        );
      // A directory's contents go into dest; a file goes to dest, or into it when dest is a directory.
      const target = statSync(from).isDirectory()
        ? dest
        : intoDirectory
          ? join(dest, basename(from))
          : dest;
      mkdirSync(dirname(target), { recursive: true });
      cpSync(from, target, { recursive: true, verbatimSymlinks: true });
    }
  }

  private async run(state: BuiltStage, command: string[]): Promise<void> {
    const child = spawn(command[0], command.slice(1), {
      cwd: this.onDisk(state, state.workdir),
      env: { ...this.hostEnv, ...state.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: RUN_TIMEOUT_MS,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0)
      throw new Error(
        `RUN ${command.join(' ')} exited with ${code}:\n${output.slice(-FAILED_OUTPUT_CHARS)}`,
      );
  }
}
