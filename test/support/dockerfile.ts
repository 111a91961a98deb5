/**
 * A Dockerfile read the way the builder reads it, as far as the container test needs: stages
 * (FROM ... AS name, with ARG defaults substituted), WORKDIR, ENV, COPY (with --from), RUN and CMD.
 * Instructions that would change what a build produces and that this reader does not model (ADD,
 * SHELL, ONBUILD, variable references outside FROM...) are refused, so a Dockerfile that grows one
 * fails the test instead of being half-simulated.
 */

export interface CopyStep {
  kind: 'COPY';
  /** Stage name (or index) for `--from`; undefined: the build context. */
  from?: string;
  sources: string[];
  dest: string;
}

export type Step =
  | CopyStep
  | { kind: 'WORKDIR'; path: string }
  | { kind: 'ENV'; vars: Record<string, string> }
  | { kind: 'RUN'; command: string[] };

export interface Stage {
  name: string;
  image: string;
  steps: Step[];
  /** Exec-form CMD, when the stage has one. */
  cmd?: string[];
}

/** Instructions with no effect on the files a stage produces or on how its CMD is started. */
const METADATA_ONLY = new Set(['USER', 'EXPOSE', 'HEALTHCHECK', 'STOPSIGNAL', 'LABEL', 'VOLUME']);

/** Logical lines: comments and parser directives dropped, `\` continuations joined. */
function instructions(text: string): string[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue;
    const line = raw.trimEnd();
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const joined = (pending + line).trim();
    pending = '';
    if (joined) lines.push(joined);
  }
  if (pending.trim()) lines.push(pending.trim());
  return lines;
}

/** JSON (exec) form `["a", "b"]`, or undefined for the shell form. */
function execForm(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(rest);
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string'))
    throw new Error(`not an exec form: ${rest}`);
  return parsed;
}

function parseCopy(rest: string): CopyStep {
  const words = execForm(rest) ?? rest.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift() as string;
    const match = /^--from=(.+)$/.exec(flag);
    if (match) from = match[1];
    else if (!/^--(chown|chmod|link)\b/.test(flag)) throw new Error(`COPY ${flag} not modelled`);
  }
  if (words.length < 2) throw new Error(`COPY needs a source and a destination: ${rest}`);
  for (const word of words)
    if (/[*?[$]/.test(word)) throw new Error(`COPY patterns and variables not modelled: ${word}`);
  return { kind: 'COPY', from, sources: words.slice(0, -1), dest: words[words.length - 1] };
}

function parseEnv(rest: string): Record<string, string> {
  const pairs = rest.split(/\s+/);
  if (!pairs[0].includes('=')) return { [pairs[0]]: rest.slice(pairs[0].length).trim() };
  return Object.fromEntries(
    pairs.map((pair) => {
      const [key, ...value] = pair.split('=');
      if (/["'$]/.test(pair)) throw new Error(`ENV quoting and variables not modelled: ${pair}`);
      return [key, value.join('=')];
    }),
  );
}

export function parseDockerfile(text: string): Stage[] {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of instructions(text)) {
    const [keyword, ...restWords] = line.split(/\s+/);
    const instruction = keyword.toUpperCase();
    const rest = line.slice(keyword.length).trim();
    const stage = stages[stages.length - 1];
    if (instruction === 'ARG' && !stage) {
      const [name, value = ''] = rest.split('=');
      args[name] = value;
    } else if (instruction === 'FROM') {
      const [image, as, name] = restWords;
      const resolved = image.replace(/\$\{?(\w+)\}?/g, (_, arg: string) => {
        if (!(arg in args)) throw new Error(`FROM uses undeclared ARG ${arg}`);
        return args[arg];
      });
      if (as && as.toUpperCase() !== 'AS') throw new Error(`unexpected FROM syntax: ${line}`);
      stages.push({ name: name ?? String(stages.length), image: resolved, steps: [] });
    } else if (!stage) {
      throw new Error(`${instruction} before the first FROM`);
    } else if (instruction === 'WORKDIR') {
      stage.steps.push({ kind: 'WORKDIR', path: rest });
    } else if (instruction === 'ENV') {
      stage.steps.push({ kind: 'ENV', vars: parseEnv(rest) });
    } else if (instruction === 'COPY') {
      stage.steps.push(parseCopy(rest));
    } else if (instruction === 'RUN') {
      stage.steps.push({ kind: 'RUN', command: execForm(rest) ?? ['/bin/sh', '-c', rest] });
    } else if (instruction === 'CMD') {
      const cmd = execForm(rest);
      if (!cmd) throw new Error('shell-form CMD not modelled (and not signal-safe)');
      stage.cmd = cmd;
    } else if (!METADATA_ONLY.has(instruction)) {
      throw new Error(`${instruction} not modelled by this reader: ${line}`);
    }
  }
  return stages;
}
