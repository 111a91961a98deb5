import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';

// package.json's `engines.node` is what we promise and what .ci/run tests at its lowest version:
// every Node it admits must be one that every installed package (the build and test toolchain
// included) says it runs on, and .ci/run's reading of the minimum must be the real minimum.

const ROOT = join(import.meta.dirname, '..');
const readJson = <T>(file: string) => JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as T;

interface Manifest {
  engines: { node: string };
  devDependencies: Record<string, string>;
}
const manifest = readJson<Manifest>('package.json');
const lock = readJson<{ packages: Record<string, { engines?: unknown }> }>('package-lock.json');
const ours = manifest.engines.node;

describe('engines.node', () => {
  it('admits only Node versions every installed package supports', () => {
    const narrower = Object.entries(lock.packages)
      .filter(([path]) => path)
      .map(([path, pkg]) => [path, (pkg.engines as { node?: unknown } | undefined)?.node] as const)
      .filter((entry): entry is readonly [string, string] => typeof entry[1] === 'string')
      .filter(([, theirs]) => !semver.subset(ours, theirs))
      .map(([path, theirs]) => `${path}: ${theirs}`);
    expect(narrower).toEqual([]);
  });

  it('names its minimum first (.ci/run tests that version), with @types/node of its major', () => {
    const minimum = semver.minVersion(ours)?.version;
    expect(ours.match(/\d+\.\d+\.\d+/)?.[0]).toBe(minimum);
    expect(semver.major(minimum ?? '0.0.0')).toBe(22);
    expect(semver.minVersion(manifest.devDependencies['@types/node'])?.major).toBe(22);
  });

  it('is the lowest 22.x the toolchain allows: the patch below it is refused by some package', () => {
    const minimum = semver.minVersion(ours) as semver.SemVer;
    const below =
      minimum.patch > 0
        ? `${minimum.major}.${minimum.minor}.${minimum.patch - 1}`
        : `${minimum.major}.${minimum.minor - 1}.999`;
    const refusing = Object.values(lock.packages)
      .map((pkg) => (pkg.engines as { node?: unknown } | undefined)?.node)
      .filter((theirs): theirs is string => typeof theirs === 'string')
      .filter((theirs) => !semver.satisfies(below, theirs));
    expect(refusing.length).toBeGreaterThan(0);
  });
});
