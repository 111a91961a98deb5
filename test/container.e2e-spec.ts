import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDockerfile } from './support/dockerfile.js';
import { TEST_AUTH_TOKEN } from './support/fake-twilio.js';
import {
  layOutContext,
  runEnvironment,
  StageBuilder,
  type BuiltStage,
} from './support/image-build.js';
import { ServiceProcess } from './support/service-process.js';

// No Docker engine here: the image is built as `docker build` builds it, step by step. The context
// is what the CLI would send (the repository minus .dockerignore, by Docker's matching rules); each
// stage's COPY and RUN steps run in a directory standing for its filesystem (npm ci, npm run build
// and the prune, with this machine's node); the runtime stage copies from the build stage; then the
// image's CMD starts from the result and must answer /health.

const ROOT = join(import.meta.dirname, '..');
/** npm ci (from the npm cache when it can), the build and the prune, from nothing. */
const BUILD_TIMEOUT_MS = 300_000;

interface LockPackage {
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
}

/** npm's os/cpu lists: names, or `!name` for all but that one. */
const allows = (list: string[] | undefined, value: string) =>
  !list ||
  (list.some((item) => !item.startsWith('!')) ? list.includes(value) : !list.includes(`!${value}`));

describe('the container image, built as docker build builds it', () => {
  const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const finalStage = stages[stages.length - 1];
  let base: string;
  let context: string[];
  let runtime: BuiltStage | undefined;
  let service: ServiceProcess | undefined;

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'bridge-image-'));
    context = layOutContext(ROOT, join(base, 'context'));
  });

  afterAll(async () => {
    await service?.kill();
    rmSync(base, { recursive: true, force: true });
  });

  const builtRuntime = (): BuiltStage => {
    if (!runtime) throw new Error('the image did not build (see the test above)');
    return runtime;
  };

  it('sends no secrets, dependencies or build output as the context', () => {
    expect(context).toContain('package-lock.json');
    for (const path of context) {
      expect(path).not.toMatch(/^(\.env(\..*)?|\.git|node_modules|dist)(\/|$)/);
    }
  });

  it(
    'builds: every stage runs (npm ci, npm run build, the prune), the runtime copies from it',
    async () => {
      const builder = new StageBuilder(join(base, 'stages'), join(base, 'context'), {
        ...runEnvironment(),
        // From npm's cache when it has the package: same files (the lock's integrity), less time.
        npm_config_prefer_offline: 'true',
      });
      let last: BuiltStage | undefined;
      for (const stage of stages) last = await builder.build(stage);
      runtime = last;
      expect(existsSync(builder.onDisk(builtRuntime(), 'dist/main.js'))).toBe(true);
      expect(existsSync(builder.onDisk(builtRuntime(), 'dist/console/public/vendor'))).toBe(true);
    },
    BUILD_TIMEOUT_MS,
  );

  it('ships the production dependencies of package-lock.json, and nothing else', () => {
    const image = builtRuntime();
    const app = join(image.root, image.workdir);
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, LockPackage>;
    };
    const installed = Object.entries(lock.packages).filter(([path]) => path);
    // devOptional: a dev dependency that is also an optional peer of a production one (TypeScript).
    const devOnly = installed.filter(([, pkg]) => pkg.dev || pkg.devOptional).map(([path]) => path);
    expect(devOnly).toEqual(
      expect.arrayContaining(['node_modules/typescript', 'node_modules/jest']),
    );
    expect(devOnly.filter((path) => existsSync(join(app, path)))).toEqual([]);
    // Optional ones are pruned on purpose (--omit=optional): only pg's pg-cloudflare, for Workers.
    const optional = installed
      .filter(([path, pkg]) => pkg.optional && !devOnly.includes(path))
      .map(([path]) => path);
    expect(optional).toEqual(['node_modules/pg-cloudflare']);
    const production = installed
      .filter(([path]) => !devOnly.includes(path) && !optional.includes(path))
      .filter(([, pkg]) => allows(pkg.os, process.platform) && allows(pkg.cpu, process.arch))
      .map(([path]) => path);
    expect(production).toContain('node_modules/@nestjs/core');
    expect(production.filter((path) => !existsSync(join(app, path, 'package.json')))).toEqual([]);
  });

  it("starts with the image's CMD and answers /health with 200", async () => {
    const image = builtRuntime();
    const [command, script, ...rest] = finalStage.cmd ?? [];
    expect([command, rest]).toEqual(['node', []]);
    const { PORT: _imagePort, ...imageEnv } = image.env;
    service = await ServiceProcess.start(
      {
        ...imageEnv,
        OPENAI_API_KEY: `sk-proj-${randomBytes(24).toString('hex')}`,
        TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      },
      30_000,
      script,
      join(image.root, image.workdir),
    );
    expect(service.logs).toMatch(/listening on port/);
    const health = await fetch(`${service.baseUrl}/health`);
    expect(health.status).toBe(200);
  }, 60_000);
});
