import { KEY_PREFIX } from './cluster.constants.js';
import { RedisUnavailableError, type DirectoryLog, type RedisStore } from './redis-store.js';

/** How long the cluster's secret check outlives the last instance that renews it. */
export const SECRET_CHECK_TTL_S = 30;
const KEY = `${KEY_PREFIX}secret-check`;

/** KEYS: the check. ARGV: this instance's fingerprint, ttl (s). 1 when it matches (renewed), 0 not. */
const CLAIM_SECRET_CHECK = `
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
`;

/** Instances on one Redis were given different CLUSTER_SECRETs: they could not read each other. */
export class ClusterSecretMismatchError extends RedisUnavailableError {}

interface SecretCheckScript {
  claimSecretCheck(key: string, fingerprint: string, ttlS: number): Promise<number>;
}

/**
 * The instances on one Redis hold `bridge:secret-check`: a fingerprint of their CLUSTER_SECRET,
 * renewed by every heartbeat. An instance given another secret would start "healthy" and blind:
 * every message from the others dropped as `bad_signature`, their calls unknown to it and its
 * own to them. It refuses to start instead; one that finds a stranger's fingerprint later (the
 * others came back with another secret while the check had lapsed) says so in its log.
 */
export class RedisSecretCheck {
  private mismatched = false;
  private readonly script: SecretCheckScript;

  constructor(
    private readonly store: RedisStore,
    private readonly fingerprint: string,
    private readonly log: DirectoryLog,
  ) {
    store.client.defineCommand('claimSecretCheck', { numberOfKeys: 1, lua: CLAIM_SECRET_CHECK });
    this.script = store.client as unknown as SecretCheckScript;
  }

  /** At start: throws ClusterSecretMismatchError when the cluster's check is another secret's. */
  async assert(): Promise<void> {
    const claimed = await this.script.claimSecretCheck(KEY, this.fingerprint, SECRET_CHECK_TTL_S);
    if (claimed === 1) return;
    throw new ClusterSecretMismatchError(
      'CLUSTER_SECRET: the instances already on this Redis use another one; every instance ' +
        `needs the same CLUSTER_SECRET (to change it, stop them all and start again ${SECRET_CHECK_TTL_S} s later)`,
    );
  }

  /** The heartbeat: renews the check, and says once when it stops (or starts again) matching. */
  async renew(): Promise<void> {
    const claimed = await this.store.attempt('secret-check', () =>
      this.script.claimSecretCheck(KEY, this.fingerprint, SECRET_CHECK_TTL_S),
    );
    if (claimed === undefined || (claimed === 1) !== this.mismatched) return;
    this.mismatched = claimed !== 1;
    if (this.mismatched) {
      this.log.warn(
        'cluster: another instance on this Redis uses a different CLUSTER_SECRET: the two cannot read each other',
      );
    } else this.log.log('cluster: every instance on this Redis uses one CLUSTER_SECRET again');
  }
}
