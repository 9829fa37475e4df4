/**
 * The Lua scripts. User data (keys, owner tokens, TTLs) only ever reaches them as KEYS/ARGV;
 * the script text is constant, so each is loaded once by SHA1 (EVALSHA, EVAL on NOSCRIPT).
 * Replies: 1 = ok, 0 = not found, -1 = forbidden (someone else holds it).
 * @module
 */
import { defineScript } from 'redis';

/** A script: its text, SHA1 and number of keys. */
export interface LockScript {
  readonly SCRIPT: string;
  readonly SHA1: string;
  readonly NUMBER_OF_KEYS: number;
}

function script(keys: number, text: string): LockScript {
  const defined = defineScript({
    SCRIPT: text,
    NUMBER_OF_KEYS: keys,
    parseCommand: () => {},
    transformReply: (reply: unknown) => reply,
  } as unknown as Parameters<typeof defineScript>[0]);
  return { SCRIPT: text, SHA1: defined.SHA1, NUMBER_OF_KEYS: keys };
}

/** Server time in milliseconds (Redis 7 replicates script effects, so TIME is allowed). */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** Drops waiters at the head of the queue whose entry expired (they died or gave up). */
const PRUNE = (queue: string, expiry: string) => `
while true do
  local head = redis.call('ZRANGE', ${queue}, 0, 0)
  if #head == 0 then break end
  local exp = tonumber(redis.call('HGET', ${expiry}, head[1]) or '0')
  if exp >= now then break end
  redis.call('ZREM', ${queue}, head[1])
  redis.call('HDEL', ${expiry}, head[1], 't:' .. head[1])
end
`;

/** Publishes the live head's ticket (or "free") on the release channel. */
const HAND_OVER = (lock: string, fence: string, queue: string, expiry: string, channel: string) => `
local nxt = redis.call('ZRANGE', ${queue}, 0, 0, 'WITHSCORES')
if #nxt == 0 then
  redis.call('PUBLISH', ${channel}, 'free')
else
  local grantTtl = redis.call('HGET', ${expiry}, 't:' .. nxt[1])
  if grantTtl then
    redis.call('ZREM', ${queue}, nxt[1])
    redis.call('HDEL', ${expiry}, nxt[1], 't:' .. nxt[1])
    redis.call('SET', ${lock}, nxt[1], 'PX', grantTtl)
    local granted = redis.call('INCR', ${fence})
    redis.call('PUBLISH', ${channel}, 'g:' .. nxt[2] .. ':' .. granted .. ':' .. grantTtl)
  else
    redis.call('PUBLISH', ${channel}, nxt[2])
  end
end
`;
/**
 * Plain acquire. KEYS: lock, fence. ARGV: owner, ttl.
 * Reply: `{1, fence}` or `{0, holder, pttl}`.
 */
export const ACQUIRE = script(
  2,
  `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('INCR', KEYS[2])}
end
return {0, redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
`,
);

/**
 * Fair acquire. KEYS: lock, fence, queue, queueExpiry, queueTicket. ARGV: owner, ttl, mode,
 * entryTtl. Mode "try": take the lock only if it is free and nobody waits. Mode "claim": join
 * (or stay in) the queue, refreshing this waiter's expiry, and take the lock if it is free
 * and this waiter is first in line.
 * Reply: `{1, fence}` or `{0, holder or nil, pttl, ticket}`.
 */
export const ACQUIRE_FAIR = script(
  5,
  `
local owner, mode, entryTtl = ARGV[1], ARGV[3], tonumber(ARGV[4])
if mode == 'try' then
  -- Fast paths without the queue machinery: held, or free with nobody waiting.
  local current = redis.call('GET', KEYS[1])
  if current then return {0, current, redis.call('PTTL', KEYS[1])} end
  if redis.call('EXISTS', KEYS[3]) == 0 then
    redis.call('SET', KEYS[1], owner, 'PX', ARGV[2])
    return {1, redis.call('INCR', KEYS[2])}
  end
end
${NOW}
local ticket = false
if mode == 'claim' then
  if redis.call('GET', KEYS[1]) == owner then
    -- A release handed us the lock already: refresh its TTL, so that this claim's send time is
    -- a sound start for its validity, and report its fence.
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, tonumber(redis.call('GET', KEYS[2]))}
  end
  ticket = redis.call('ZSCORE', KEYS[3], owner)
  if not ticket then
    ticket = redis.call('INCR', KEYS[5])
    redis.call('ZADD', KEYS[3], ticket, owner)
  end
  -- A lock handed over by a release lives at most entryTtl before its new holder renews it,
  -- so a waiter that died in the queue blocks the lock no longer than its place would.
  redis.call('HSET', KEYS[4], owner, now + entryTtl, 't:' .. owner, math.min(tonumber(ARGV[2]), entryTtl))
  redis.call('PEXPIRE', KEYS[3], entryTtl * 2)
  redis.call('PEXPIRE', KEYS[4], entryTtl * 2)
  redis.call('PEXPIRE', KEYS[5], entryTtl * 2)
end
${PRUNE('KEYS[3]', 'KEYS[4]')}
local holder = redis.call('GET', KEYS[1])
if not holder then
  local head = redis.call('ZRANGE', KEYS[3], 0, 0)[1]
  if head == nil or head == owner then
    if head then
      redis.call('ZREM', KEYS[3], owner)
      redis.call('HDEL', KEYS[4], owner, 't:' .. owner)
    end
    redis.call('SET', KEYS[1], owner, 'PX', ARGV[2])
    return {1, redis.call('INCR', KEYS[2])}
  end
  return {0, false, -1, tonumber(ticket)}
end
return {0, holder, redis.call('PTTL', KEYS[1]), tonumber(ticket)}
`,
);

/**
 * Leave the fair queue (a waiter gave up). KEYS: queue, queueExpiry, lock. ARGV: owner, channel.
 * If the lock is free, wakes the new head of the line.
 */
export const LEAVE_QUEUE = script(
  4,
  `${NOW}
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1], 't:' .. ARGV[1])
local handedToUs = redis.call('GET', KEYS[3]) == ARGV[1]
if handedToUs then redis.call('DEL', KEYS[3]) end
if handedToUs or (removed == 1 and redis.call('EXISTS', KEYS[3]) == 0) then
  ${PRUNE('KEYS[1]', 'KEYS[2]')}
  ${HAND_OVER('KEYS[3]', 'KEYS[4]', 'KEYS[1]', 'KEYS[2]', 'ARGV[2]')}
end
return removed
`,
);

/** Owner-checked extend. KEYS: lock. ARGV: owner, ttl. */
export const EXTEND = script(
  1,
  `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if v then return -1 end
return 0
`,
);

/**
 * Owner-checked extend of many locks (one slot). KEYS: locks. ARGV: owner1, ttl1, owner2, ttl2…
 * Reply: one result per key, in order.
 */
export const EXTEND_MANY = script(
  0,
  `
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if v == ARGV[2 * i - 1] then
    redis.call('PEXPIRE', key, ARGV[2 * i])
    out[i] = 1
  elseif v then
    out[i] = -1
  else
    out[i] = 0
  end
end
return out
`,
);

/** Owner-checked release that wakes watchers. KEYS: lock. ARGV: owner, channel. */
export const RELEASE = script(
  1,
  `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if v ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], 'free')
return 1
`,
);

/**
 * Fair release: deletes the lock and announces the ticket of the first live waiter, who then
 * claims it in its own round trip. KEYS: lock, queue, queueExpiry. ARGV: owner, channel.
 */
export const RELEASE_FAIR = script(
  4,
  `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if v ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('PUBLISH', ARGV[2], 'free')
  return 1
end
${NOW}
${PRUNE('KEYS[2]', 'KEYS[3]')}
${HAND_OVER('KEYS[1]', 'KEYS[4]', 'KEYS[2]', 'KEYS[3]', 'ARGV[2]')}
return 1
`,
);

/** Who holds a lock. KEYS: lock, fence. Reply: `{owner or nil, pttl, fence or nil}`. */
export const INSPECT = script(
  2,
  `
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[2])}
`,
);

/**
 * Raises a fence counter to at least ARGV[1] (Redlock: after a quorum grant, so every later
 * grant on any quorum is above this one). KEYS: fence.
 */
export const RAISE_FENCE = script(
  1,
  `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`,
);
