/**
 * The benches' command lines: `--name value` pairs. Hand-written rather than node:util's
 * parseArgs (which scripts/simulate.ts uses) because values here are often flags themselves,
 * `--service-node-args "--cpu-prof"`, which parseArgs refuses unless written `--name=value`.
 */

/** A command line the bench cannot run: its message is printed with the usage. */
export class UsageError extends Error {}

/** The `--name value` pairs of argv by name; --help, a stray word, a missing value or an unknown name throw. */
export function flagValues(
  argv: readonly string[],
  known: readonly string[],
  usage: string,
): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--help' || flag === '-h') throw new UsageError(usage);
    if (!flag.startsWith('--') || value === undefined) {
      throw new UsageError(`bad argument ${flag}\n${usage}`);
    }
    if (!known.includes(flag.slice(2))) throw new UsageError(`unknown option ${flag}\n${usage}`);
    values.set(flag.slice(2), value);
  }
  return values;
}

/** The options parsed from this process's argv, or the reason printed and exit code 2. */
export function optionsOrExit<T>(parse: (argv: string[]) => T): T {
  try {
    return parse(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
}
