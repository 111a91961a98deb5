import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { parseEnv as parseDotEnv } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { envSchema } from '../src/config/env.schema.js';
import { EXIT_GRACE_MS } from '../src/shutdown-bounds.js';
import { parseDockerfile } from './support/dockerfile.js';
import { layOutContext } from './support/image-build.js';

// No Docker engine and no Kubernetes cluster here: the deployment files are parsed and the
// properties the issue names are checked on what they say (what `docker compose config` and
// `kubectl apply --dry-run` would read).

const ROOT = join(import.meta.dirname, '..');
const K8S = join(ROOT, 'deploy/k8s');
/** main.ts exits at the latest SHUTDOWN_DRAIN_S + this after SIGTERM (the steps after the drain). */
const EXIT_GRACE_S = Math.ceil(EXIT_GRACE_MS / 1000);
const KNOWN_ENV = new Set(Object.keys(envSchema.shape));

type Doc = Record<string, any>;

function k8sDocuments(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(join(K8S, file), 'utf8'));
  for (const doc of docs) expect(doc.errors).toEqual([]);
  return docs.map((doc) => doc.toJS() as Doc).filter(Boolean);
}

const kustomization = parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')) as Doc;
const resources = (kustomization.resources as string[]).flatMap(k8sDocuments);
const byKind = (kind: string) => resources.filter((doc) => doc.kind === kind);
const bridge = byKind('Deployment').find((doc) => doc.metadata.name === 'bridge') as Doc;
const pod = bridge.spec.template.spec as Doc;
const container = pod.containers[0] as Doc;
const configMap = byKind('ConfigMap')[0];
const secret = byKind('Secret').find((doc) => doc.metadata.name === 'bridge-secrets') as Doc;
const redisDeployment = byKind('Deployment').find(
  (doc) => doc.metadata.name === 'bridge-redis',
) as Doc;
const redisContainer = redisDeployment.spec.template.spec.containers[0] as Doc;

const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe('Kubernetes manifests (deploy/k8s)', () => {
  it('takes DATABASE_URL from the secret and mounts nothing writable for the history', () => {
    expect(secret.stringData.DATABASE_URL).toMatch(/^postgres:\/\//);
    expect(configMap.data.DATABASE_URL).toBeUndefined();
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    const mounts = (container.volumeMounts ?? []) as Array<{
      mountPath: string;
      readOnly?: boolean;
    }>;
    expect(mounts.filter((m) => !m.readOnly && /data|history/.test(m.mountPath))).toEqual([]);
    expect(bridge.spec.replicas).toBe(2);
  });

  it('lists every manifest in the kustomization, each a valid Kubernetes object', () => {
    const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...(kustomization.resources as string[])].sort()).toEqual(files.sort());
    for (const doc of resources) {
      expect(typeof doc.apiVersion).toBe('string');
      expect(typeof doc.kind).toBe('string');
      expect(doc.metadata?.name).toMatch(/^[a-z0-9-]+$/);
    }
    expect(kustomization.images).toEqual([
      expect.objectContaining({ name: container.image as string }),
    ]);
  });

  it('runs 2+ replicas and never takes one out of service before its successor is ready', () => {
    expect(bridge.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(bridge.spec.strategy).toMatchObject({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0 },
    });
    expect(bridge.spec.strategy.rollingUpdate.maxSurge).toBeGreaterThanOrEqual(1);
  });

  it('probes readiness on /health/ready and liveness on /health, on the port the app listens on', () => {
    const port = container.ports[0] as Doc;
    expect(String(port.containerPort)).toBe(configMap.data.PORT);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: port.name });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: port.name });
  });

  it('pauses before SIGTERM and gives the drain its whole time before SIGKILL', () => {
    const command = container.lifecycle.preStop.exec.command as string[];
    expect(command[0]).toBe('sleep');
    const preStopS = Number(command[1]);
    expect(preStopS).toBeGreaterThanOrEqual(5);
    const drainS = Number(configMap.data.SHUTDOWN_DRAIN_S);
    expect(drainS).toBeGreaterThan(0);
    // A margin of at least 5 s beyond what the process itself may take.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
      preStopS + drainS + EXIT_GRACE_S + 5,
    );
  });

  it('takes its settings from the ConfigMap and Secret, every name one the bridge knows', () => {
    const from = (container.envFrom as Doc[]).map((source) =>
      String(source.configMapRef?.name ?? source.secretRef?.name),
    );
    expect(from).toEqual([configMap.metadata.name, secret.metadata.name]);
    const names = [
      ...Object.keys(configMap.data as object),
      ...Object.keys(secret.stringData as object),
      ...(container.env as Doc[]).map((e) => e.name as string),
    ];
    for (const name of names) expect(KNOWN_ENV).toContain(name);
    // Cluster mode, with each pod named after itself; the Redis URL (a password) in the Secret.
    expect(secret.stringData.REDIS_URL).toMatch(/^rediss?:\/\//);
    expect(configMap.data.REDIS_URL).toBeUndefined();
    expect(container.env).toContainEqual({
      name: 'INSTANCE_ID',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
    expect(configMap.data.TRUST_PROXY).toBe('true');
    expect(configMap.data.PUBLIC_URL).toMatch(/^https:\/\//);
    // The values parse as the bridge parses them (secrets aside, which are placeholders).
    const parsed = envSchema.safeParse({ ...configMap.data, ...secret.stringData });
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  });

  it('routes the Service and the disruption budget to the bridge pods only', () => {
    const labels = bridge.spec.template.metadata.labels as Record<string, string>;
    expect(bridge.spec.selector.matchLabels).toEqual(labels);
    const service = byKind('Service').find((doc) => doc.metadata.name === 'bridge') as Doc;
    expect(matches(service.spec.selector, labels)).toBe(true);
    expect(service.spec.ports[0].targetPort).toBe(container.ports[0].name);
    const pdb = byKind('PodDisruptionBudget')[0];
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(matches(pdb.spec.selector.matchLabels, labels)).toBe(true);
    expect(pdb.spec.maxUnavailable ?? bridge.spec.replicas - pdb.spec.minAvailable).toBeLessThan(
      bridge.spec.replicas,
    );
  });

  it('runs Redis with a password from a Secret, the same one REDIS_URL carries', () => {
    const args = redisContainer.args as string[];
    expect(args[args.indexOf('--requirepass') + 1]).toBe('$(REDIS_PASSWORD)');
    const fromSecret = (redisContainer.env as Doc[]).find((e) => e.name === 'REDIS_PASSWORD');
    const ref = fromSecret?.valueFrom.secretKeyRef as { name: string; key: string };
    const redisSecret = byKind('Secret').find((doc) => doc.metadata.name === ref.name) as Doc;
    const password = redisSecret.stringData[ref.key] as string;
    expect(password).toBeTruthy();
    expect(decodeURIComponent(new URL(secret.stringData.REDIS_URL as string).password)).toBe(
      password,
    );
    // The probe authenticates (redis-cli reads REDISCLI_AUTH) and needs a PONG, not just exit 0.
    expect((redisContainer.env as Doc[]).map((e) => e.name as string)).toContain('REDISCLI_AUTH');
    expect(redisContainer.readinessProbe.exec.command.join(' ')).toMatch(/redis-cli ping.*PONG/);
  });

  it('signs the cluster bus with CLUSTER_SECRET from the Secret, never the ConfigMap', () => {
    expect(secret.stringData.CLUSTER_SECRET).toBeTruthy();
    expect(configMap.data.CLUSTER_SECRET).toBeUndefined();
    expect((container.env as Doc[]).map((e) => e.name as string)).not.toContain('CLUSTER_SECRET');
  });

  it('lets only the bridge pods reach Redis, on 6379 only', () => {
    const [policy] = byKind('NetworkPolicy');
    expect(policy.apiVersion).toBe('networking.k8s.io/v1');
    const redisLabels = redisDeployment.spec.template.metadata.labels as Record<string, string>;
    const bridgeLabels = bridge.spec.template.metadata.labels as Record<string, string>;
    expect(matches(policy.spec.podSelector.matchLabels, redisLabels)).toBe(true);
    expect(matches(policy.spec.podSelector.matchLabels, bridgeLabels)).toBe(false);
    expect(policy.spec.policyTypes).toContain('Ingress');
    const rules = policy.spec.ingress as Doc[];
    expect(rules).toHaveLength(1);
    // One peer, a pod selector alone (no namespaceSelector or ipBlock widening it).
    expect(rules[0].from).toHaveLength(1);
    expect(Object.keys(rules[0].from[0] as object)).toEqual(['podSelector']);
    const from = rules[0].from[0].podSelector.matchLabels as Record<string, string>;
    expect(matches(from, bridgeLabels)).toBe(true);
    expect(matches(from, redisLabels)).toBe(false);
    expect(rules[0].ports).toEqual([{ protocol: 'TCP', port: 6379 }]);
  });

  it('runs as a non-root user', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as Doc;
  const { redis, bridge: app, caddy } = compose.services as Record<string, Doc>;
  const caddyfile = readFileSync(join(ROOT, 'deploy/compose/Caddyfile'), 'utf8');

  it('runs Redis, PostgreSQL, two bridge replicas and a TLS proxy', () => {
    expect(Object.keys(compose.services as object).sort()).toEqual([
      'bridge',
      'caddy',
      'postgres',
      'redis',
    ]);
    expect(redis.image).toMatch(/^redis:/);
    expect(app.build).toBe('.');
    expect(app.deploy.replicas).toBe(2);
    expect(caddy.image).toMatch(/^caddy:2/);
    expect(caddy.ports).toEqual(expect.arrayContaining(['80:80', '443:443']));
  });

  it('gives the replicas one PostgreSQL for the history, its password from .env as Redis has', () => {
    const postgres = (compose.services as Record<string, any>).postgres;
    const password = '${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env (openssl rand -hex 32)}';
    expect(postgres.image).toMatch(/^postgres:/);
    expect(postgres.environment.POSTGRES_PASSWORD).toBe(password);
    expect(postgres.ports).toBeUndefined();
    expect(app.environment.DATABASE_URL).toBe(`postgres://bridge:${password}@postgres:5432/bridge`);
    expect(app.depends_on.postgres).toEqual({ condition: 'service_healthy' });
  });

  it('points the replicas at Redis and at the public https name, trusting the proxy', () => {
    expect(app.environment.REDIS_URL).toBe(
      'redis://:${REDIS_PASSWORD:?set REDIS_PASSWORD in .env (openssl rand -hex 32)}@redis:6379/0',
    );
    expect(app.environment.TRUST_PROXY).toBe('true');
    expect(app.environment.PUBLIC_URL).toMatch(/^https:\/\/\$\{PUBLIC_HOST:\?[^}]+\}$/);
    expect(caddy.environment.PUBLIC_HOST).toMatch(/^\$\{PUBLIC_HOST/);
    for (const name of Object.keys(app.environment as object)) expect(KNOWN_ENV).toContain(name);
    // Replicas have no port of their own and no fixed INSTANCE_ID (hostname-pid is unique).
    expect(app.ports).toBeUndefined();
    expect(app.container_name).toBeUndefined();
    expect(app.environment.INSTANCE_ID).toBeUndefined();
    expect(app.depends_on.redis.condition).toBe('service_healthy');
  });

  it('runs Redis with the password from .env, and gives the replicas it and CLUSTER_SECRET', () => {
    const command = redis.command as string[];
    const password = command[command.indexOf('--requirepass') + 1];
    expect(password).toMatch(/^\$\{REDIS_PASSWORD:\?[^}]+\}$/);
    expect(redis.environment.REDISCLI_AUTH).toBe(password);
    expect(redis.healthcheck.test.join(' ')).toMatch(/redis-cli ping.*PONG/);
    expect(redis.ports).toBeUndefined();
    expect(app.environment.REDIS_URL).toContain(`redis://:${password}@redis:6379`);
    expect(app.environment.CLUSTER_SECRET).toMatch(/^\$\{CLUSTER_SECRET:\?[^}]+\}$/);
  });

  it('lets a stopping replica drain before it is killed', () => {
    const grace = /^(\d+)s$/.exec(app.stop_grace_period as string);
    const drain = Number(/:-(\d+)\}/.exec(app.environment.SHUTDOWN_DRAIN_S as string)?.[1]);
    expect(grace).not.toBeNull();
    expect(Number(grace?.[1])).toBeGreaterThanOrEqual(drain + EXIT_GRACE_S);
  });

  it('proxies HTTP and WebSockets for PUBLIC_HOST to every replica', () => {
    const mount = (caddy.volumes as string[]).find((v) => v.endsWith(':/etc/caddy/Caddyfile:ro'));
    expect(mount && existsSync(join(ROOT, mount.split(':')[0]))).toBe(true);
    expect(caddyfile).toMatch(/^\{\$PUBLIC_HOST\} \{$/m);
    expect(caddyfile).toMatch(/dynamic a \{\s*name bridge\s*port 8080/);
    expect(caddyfile).toMatch(/unhealthy_status 503/);
    // Braces balance (the Caddyfile parser would refuse it otherwise).
    expect(caddyfile.split('{').length).toBe(caddyfile.split('}').length);
  });

  it('starts with what the steps in docs/deploy.md give it: every ${NAME:?...} set', () => {
    // Compose refuses to start on a `:?` variable unset or empty, in .env or the environment.
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const required = new Set([...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*):\?/g)].map((m) => m[1]));
    const deployDoc = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
    const section = deployDoc.slice(deployDoc.indexOf('\n## docker compose\n'));
    const steps = /```bash\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    expect(steps).toMatch(/^cp \.env\.example \.env\b/m);
    const given = new Set(
      Object.entries(parseDotEnv(readFileSync(join(ROOT, '.env.example'), 'utf8')))
        .filter(([, value]) => value !== '')
        .map(([name]) => name),
    );
    for (const [, name] of steps.matchAll(
      /^echo "([A-Z_][A-Z0-9_]*)=\$\(openssl[^"]*\)" >> \.env$/gm,
    ))
      given.add(name);
    const up = steps.split('\n').find((line) => / docker compose up\b/.test(line)) ?? '';
    for (const [, name] of up.matchAll(/(?:^| )([A-Z_][A-Z0-9_]*)=\S+(?= )/g)) given.add(name);
    expect([...required].filter((name) => !given.has(name))).toEqual([]);
    expect(required).toEqual(
      new Set(['REDIS_PASSWORD', 'POSTGRES_PASSWORD', 'CLUSTER_SECRET', 'PUBLIC_HOST']),
    );
  });

  it('uses only well-formed variable substitutions', () => {
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    for (const [expression] of text.matchAll(/\$\{[^}]*\}/g)) {
      expect(expression).toMatch(/^\$\{[A-Z_][A-Z0-9_]*(?:(?::?[-?])[^}]*)?\}$/);
    }
  });
});

describe('the forced exit as the docs state it', () => {
  it('is the one the code uses, SHUTDOWN_DRAIN_S + EXIT_GRACE_MS, wherever a doc gives it', () => {
    const stated = `\`SHUTDOWN_DRAIN_S\` + ${EXIT_GRACE_S} s`;
    for (const doc of ['docs/operations.md', 'docs/extending.md', 'docs/sip.md']) {
      const text = readFileSync(join(ROOT, doc), 'utf8').replace(/\s+/g, ' ');
      const given = text.match(/`SHUTDOWN_DRAIN_S` \+ \d+ s/g) ?? [];
      expect({ doc, given }).toEqual({ doc, given: [stated] });
    }
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const instructions = text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((line) => line.trim() && !line.trim().startsWith('#'));
  const final = instructions.slice(instructions.findLastIndex((line) => line.startsWith('FROM')));

  it('builds in one stage and runs in another, on Node 24 slim', () => {
    expect(instructions.filter((line) => line.startsWith('FROM'))).toHaveLength(2);
    expect(text).toMatch(/^ARG NODE_IMAGE=node:24[\w.-]*-slim$/m);
    expect(text).toMatch(/RUN npm ci\b/);
    expect(text).toMatch(/npm prune --omit=dev/);
  });

  it('runs as a non-root user, with an exec-form CMD and a health check on /health', () => {
    const user = final.find((line) => line.startsWith('USER '));
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER (root|0)\b/);
    const cmd = final.find((line) => line.startsWith('CMD '));
    expect(JSON.parse(cmd!.slice(4))).toEqual(['node', 'dist/main.js']);
    expect(final.find((line) => line.startsWith('HEALTHCHECK '))).toMatch(/CMD \[.*\/health'/);
  });

  it('keeps what the image sets under `docker run --env-file .env`, .env copied from .env.example', () => {
    // --env-file wins over the image's ENV, and an empty value is still a value: DATA_DIR= or
    // DATA_DIR=./data would move the history off the /data volume, to a folder node cannot write.
    const runtime = parseDockerfile(text).at(-1)!;
    const imageEnv = Object.assign(
      {},
      ...runtime.steps.flatMap((step) => (step.kind === 'ENV' ? [step.vars] : [])),
    ) as Record<string, string>;
    expect(imageEnv.DATA_DIR).toBe('/data');
    expect(final).toContain('VOLUME ["/data"]');
    const example = parseDotEnv(readFileSync(join(ROOT, '.env.example'), 'utf8'));
    for (const [name, value] of Object.entries(imageEnv))
      expect([name, example[name] ?? value]).toEqual([name, value]);
    // What docs/deploy.md runs: the volume where the image's DATA_DIR is.
    const deployDoc = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
    expect(deployDoc).toMatch(/docker run --env-file \.env [^`]*-v bridge-data:\/data /);
  });

  it('copies only what the build context holds (files that exist, not excluded by .dockerignore)', () => {
    const context = mkdtempSync(join(tmpdir(), 'bridge-context-'));
    try {
      const files = layOutContext(ROOT, context);
      const sources = parseDockerfile(text)
        .flatMap((stage) => stage.steps)
        .flatMap((step) => (step.kind === 'COPY' && step.from === undefined ? step.sources : []));
      expect(sources).toContain('src');
      for (const source of sources) {
        const path = posix.normalize(source).replace(/\/$/, '');
        expect([
          source,
          files.some((file) => file === path || file.startsWith(`${path}/`)),
        ]).toEqual([source, true]);
      }
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });
});
