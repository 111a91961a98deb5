/**
 * The Lua scripts behind admission and the live-call directory. Each runs atomically in Redis,
 * and each reads the time from Redis itself (`TIME`), so instances with skewed clocks still agree
 * on when a lease has expired. Redis >= 5 replicates a script's effects, not the script, so
 * calling TIME before a write is allowed.
 *
 * Keys: `<prefix>leases` is a sorted set of CallSid -> lease expiry (ms); `<prefix>call:<sid>` a
 * hash per live call with the same expiry. The list scripts build hash keys from the prefix, so
 * these scripts expect a single Redis (or a primary with replicas), not Redis Cluster.
 */

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS: leases, call hash. ARGV: sid, ttlMs, max (0: none), then hash field/value pairs.
 * Returns 'ok', 'live' (this CallSid already holds a lease) or 'full' (CLUSTER_MAX_CALLS).
 */
export const ADMIT_LEASE = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 'live' end
local max = tonumber(ARGV[3])
if max > 0 and redis.call('ZCARD', KEYS[1]) >= max then return 'full' end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 'ok'
`;

/**
 * The heartbeat, one call: renews the lease and the hash, or writes them again if they are gone
 * (Redis restarted, or was unreachable longer than a lease). A live call is never refused here,
 * even above CLUSTER_MAX_CALLS: it is already talking. KEYS/ARGV as ADMIT_LEASE, minus max.
 */
export const RENEW_LEASE = `${NOW}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
`;

/** KEYS: leases. Returns how many leases are unexpired. */
export const COUNT_LEASES = `${NOW}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`;

/**
 * KEYS: leases. ARGV: key prefix of the call hashes, then optionally one sid (a lookup).
 * Returns, per live call, its sid followed by the flat HGETALL array of its hash.
 */
export const LIST_LIVE = `${NOW}
local sids
if ARGV[2] then
  local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
  if not score or tonumber(score) <= now then return {} end
  sids = { ARGV[2] }
else
  sids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
end
local calls = {}
for _, sid in ipairs(sids) do
  local fields = redis.call('HGETALL', ARGV[1] .. sid)
  if #fields > 0 then
    table.insert(fields, 1, sid)
    table.insert(calls, fields)
  end
end
return calls
`;

/**
 * KEYS: SIP lines (sorted set: call id -> expiry), their records (hash: call id -> signed call).
 * ARGV: sid, ttlMs, signed call. Holds a SIP call's line for another lease's time.
 */
export const HOLD_LINE = `${NOW}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
`;

/** KEYS: SIP lines. ARGV: limit. Returns sid, expiry pairs of lines no one holds any more. */
export const EXPIRED_LINES = `${NOW}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1]))
`;

/**
 * KEYS: SIP lines, their records, leases, the owner's control channel. ARGV: sid, the expiry it
 * was seen with, '1' to check the channel. Takes the line (so that one instance alone acts on
 * it) and returns 1, or 0 when it was held again since (its expiry changed), is gone, its call
 * holds a live lease, or its owner still listens on its control channel (Redis holds its
 * connection: a killed process's closes).
 */
export const TAKE_LINE = `${NOW}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or score ~= ARGV[2] then return 0 end
local lease = redis.call('ZSCORE', KEYS[3], ARGV[1])
if lease and tonumber(lease) > now then return 0 end
if ARGV[3] == '1' and redis.call('PUBSUB', 'NUMSUB', KEYS[4])[2] > 0 then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`;

/**
 * A new console session. KEYS: the sessions' index (a sorted set of session key -> expiry by
 * Redis's clock), the new session's key. ARGV: the session keys' prefix, the new session's
 * hash, its lifetime (ms), MAX_SESSIONS, its sealed record. Expired entries leave the index, the
 * oldest go beyond the bound (their records deleted); returns their hashes, to report them ended.
 */
export const ADD_CONSOLE_SESSION = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4]) + 1
local evicted = {}
if over > 0 then
  evicted = redis.call('ZRANGE', KEYS[1], 0, over - 1)
  for _, hash in ipairs(evicted) do redis.call('DEL', ARGV[1] .. hash) end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, over - 1)
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return evicted
`;
