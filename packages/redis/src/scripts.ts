/**
 * The Lua scripts. User data (keys, owner tokens, TTLs) only ever reaches them as KEYS/ARGV;
 * the script text is constant, so each is loaded once by SHA1 (EVALSHA, EVAL on NOSCRIPT).
 * Replies: 1 = ok, 0 = not found, -1 = forbidden (someone else holds it).
 * @module
 */
import { defineScript } from 'redis';
import { KEY_SUFFIX } from './keys.js';

/** A script: its text, SHA1 and number of keys. */
export interface LockScript {
  readonly SCRIPT: string;
  readonly SHA1: string;
  readonly NUMBER_OF_KEYS: number;
}

export function script(keys: number, text: string): LockScript {
  const defined = defineScript({
    SCRIPT: text,
    NUMBER_OF_KEYS: keys,
    parseCommand: () => {},
    transformReply: (reply: unknown) => reply,
  } as unknown as Parameters<typeof defineScript>[0]);
  return { SCRIPT: text, SHA1: defined.SHA1, NUMBER_OF_KEYS: keys };
}

/**
 * Fair mode marks a lock that has waiters queued behind it by appending this to its holder's
 * owner token (`SET … XX KEEPTTL`, so its TTL is untouched). A release then learns whether
 * anyone waits from the one GET it does anyway: an unmarked lock is deleted and nothing more
 * (no queue lookup, no PUBLISH). Owner tokens never contain whitespace (core's identities may
 * not), so a marked value cannot be another owner's token.
 */
export const WAITING_MARK = ' q';

/** Lua: whether value `v` is `owner`'s lock, marked or not. */
const OWNS = (v: string, owner: string) =>
  `(${v} == ${owner} or ${v} == ${owner} .. '${WAITING_MARK}')`;

/**
 * Lua function `next_fence(fence, waiting)`: counts the next fence and keeps the counter's parity
 * in step with the queue. Fair mode's plain acquire (SET NX PX, then INCRBY fence 2, pipelined,
 * no script) learns from the parity whether anyone was queued (odd) without a queue lookup.
 */
const NEXT_FENCE = `
local function next_fence(fence, waiting)
  local c = redis.call('INCRBY', fence, 2)
  if c % 2 == 1 and not waiting then c = redis.call('DECR', fence)
  elseif c % 2 == 0 and waiting then c = redis.call('INCR', fence) end
  return c - c % 2
end
`;

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

/**
 * Publishes the live head's ticket (or "free") on the release channel. A lock handed over to a
 * waiter is marked if others still wait behind it; the fence counter's parity says whether
 * anyone still waits. Needs NEXT_FENCE defined.
 */
const HAND_OVER = (lock: string, fence: string, queue: string, expiry: string, channel: string) => `
local nxt = redis.call('ZRANGE', ${queue}, 0, 0, 'WITHSCORES')
if #nxt == 0 then
  local c = tonumber(redis.call('GET', ${fence}) or '0')
  if c % 2 == 1 then redis.call('DECR', ${fence}) end
  redis.call('PUBLISH', ${channel}, 'free')
else
  local grantTtl = redis.call('HGET', ${expiry}, 't:' .. nxt[1])
  if grantTtl then
    redis.call('ZREM', ${queue}, nxt[1])
    redis.call('HDEL', ${expiry}, nxt[1], 't:' .. nxt[1])
    local more = redis.call('ZCARD', ${queue}) > 0
    local value = nxt[1]
    if more then value = value .. '${WAITING_MARK}' end
    redis.call('SET', ${lock}, value, 'PX', grantTtl)
    local granted = next_fence(${fence}, more)
    redis.call('PUBLISH', ${channel}, 'g:' .. nxt[2] .. ':' .. granted .. ':' .. grantTtl)
  else
    redis.call('PUBLISH', ${channel}, nxt[2])
  end
end
`;
/** A name of one of a lock's keys (see `KEY_SUFFIX`). */
type KeyName = keyof typeof KEY_SUFFIX;

/**
 * A script that also comes in a batched form: `single` handles one lock, its keys declared as
 * KEYS (so it runs on a Cluster too); `many` does the same for several locks in one call on a
 * standalone server, replying with one `single` reply per lock in order (an error reply in its
 * place when that lock's call failed). `many` takes, per lock, only its hash tag and its
 * arguments, and rebuilds the key names from the tag inside Redis: a lock's call then sends 2–3
 * short strings instead of 6–7, which is most of what the client spends writing a batch.
 * Concurrent callers share one script run and one command (see `ScriptBatcher`).
 */
export interface BatchableScript {
  readonly single: LockScript;
  readonly many: LockScript;
  /** `single`'s KEYS and ARGV for the lock with hash tag `tag` and the caller's `args`. */
  singleCall(tag: string, args: readonly string[]): { keys: string[]; argv: string[] };
  /** Arguments per lock in `many`: the tag, then the caller's arguments. */
  readonly argsPerLock: number;
}

/** How a batchable script's Lua function takes its parameters, in this order. */
interface BatchableParams {
  /** The lock's keys it touches. */
  readonly keys: readonly KeyName[];
  /** How many arguments the caller passes. */
  readonly args: number;
  /** Names built from the tag that are not keys (a pub/sub channel), passed after the arguments. */
  readonly derived?: readonly KeyName[];
}

/**
 * Builds both forms from one Lua function `name(key1, …, arg1, …, derived1, …)` that returns one
 * reply, so the single and batched forms cannot drift apart.
 */
function batchable(name: string, params: BatchableParams, fn: string): BatchableScript {
  const { keys, args } = params;
  const derived = params.derived ?? [];
  const fromTag = (suffix: KeyName) =>
    KEY_SUFFIX[suffix] === '' ? 'tag' : `tag .. '${KEY_SUFFIX[suffix]}'`;
  const per = 1 + args;
  const singleParams = [
    ...keys.map((_, k) => `KEYS[${k + 1}]`),
    ...Array.from({ length: args + derived.length }, (_, a) => `ARGV[${a + 1}]`),
  ].join(', ');
  const manyParams = [
    ...keys.map(fromTag),
    ...Array.from({ length: args }, (_, a) => `ARGV[base + ${a + 2}]`),
    ...derived.map(fromTag),
  ].join(', ');
  return {
    single: script(keys.length, `${fn}\nreturn ${name}(${singleParams})`),
    many: script(
      0,
      `${fn}
local out = {}
for i = 0, #ARGV / ${per} - 1 do
  local base = i * ${per}
  local tag = ARGV[base + 1]
  -- One lock's error (a key of the wrong type) is its own reply, not the whole batch's:
  -- without pcall the script would stop there, after earlier locks were already taken.
  local ok, reply = pcall(${name}, ${manyParams})
  if ok or type(reply) == 'table' then out[i + 1] = reply else out[i + 1] = {err = tostring(reply)} end
end
return out`,
    ),
    singleCall: (tag, callerArgs) => ({
      keys: keys.map((suffix) => tag + KEY_SUFFIX[suffix]),
      argv: [...callerArgs, ...derived.map((suffix) => tag + KEY_SUFFIX[suffix])],
    }),
    argsPerLock: per,
  };
}

/**
 * Counts the fence of a lock just set, or, if the counter cannot be counted (a key of the wrong
 * type where the counter should be), deletes the lock again and returns the error: a failed
 * acquire leaves nothing locked.
 */
const GRANT = (lock: string, fence: string) => `
  local counted = redis.pcall('INCR', ${fence})
  if type(counted) == 'table' and counted.err then
    redis.call('DEL', ${lock})
    return counted
  end
  return {1, counted}`;

/**
 * Plain acquire. Keys: lock, fence. Arguments: owner, ttl.
 * Reply: `{1, fence}` or `{0, holder, pttl}`.
 */
export const ACQUIRE = batchable(
  'acquire',
  { keys: ['lock', 'fence'], args: 2 },
  `
local function acquire(lock, fence, owner, ttl)
  if redis.call('SET', lock, owner, 'NX', 'PX', ttl) then
    ${GRANT('lock', 'fence')}
  end
  return {0, redis.call('GET', lock), redis.call('PTTL', lock)}
end`,
);

/**
 * Fair first attempt: takes the lock if it is free and nobody (alive) waits for it.
 * Keys: lock, fence, queue, queueExpiry. Arguments: owner, ttl, channel.
 * Reply: `{1, fence}` or `{0, holder or false, pttl}`.
 *
 * Uncontended it runs two commands, `SET NX PX GET` and `INCRBY fence 2`, and never looks at the
 * queue: the counter's parity says whether waiters are queued. Odd means the lock had expired
 * under queued waiters (its holder died or lost it) and the SET jumped the line: if live waiters
 * remain, the lock goes straight to the head of the line and the caller queues behind them;
 * otherwise (their places expired) the counter is made even again and the caller keeps it.
 */
export const ACQUIRE_FAIR = batchable(
  'acquire_fair',
  { keys: ['lock', 'fence', 'queue', 'queueExpiry'], args: 2, derived: ['channel'] },
  `${NEXT_FENCE}
local function acquire_fair(lock, fence, queue, expiry, owner, ttl, channel)
  local holder = redis.call('SET', lock, owner, 'NX', 'PX', ttl, 'GET')
  if holder then return {0, holder, redis.call('PTTL', lock)} end
  local counted = redis.pcall('INCRBY', fence, 2)
  if type(counted) == 'table' and counted.err then
    redis.call('DEL', lock)
    return counted
  end
  if counted % 2 == 0 then return {1, counted} end
  ${NOW}
  ${PRUNE('queue', 'expiry')}
  if redis.call('EXISTS', queue) == 0 then
    return {1, redis.call('DECR', fence)}
  end
  redis.call('DEL', lock)
  ${HAND_OVER('lock', 'fence', 'queue', 'expiry', 'channel')}
  return {0, false, -1}
end`,
);

/**
 * Fair claim: join (or stay in) the queue, refreshing this waiter's expiry, and take the lock if
 * it is free and this waiter is first in line. A lock held by someone else is marked (see
 * {@link WAITING_MARK}) so that its release hands it over; the first waiter to join makes the
 * fence counter odd. KEYS: lock, fence, queue, queueExpiry, queueTicket. ARGV: owner, ttl,
 * entryTtl. Reply: `{1, fence}` or `{0, holder or nil, pttl, ticket}`.
 */
export const CLAIM_FAIR = script(
  5,
  `${NEXT_FENCE}
local owner, entryTtl = ARGV[1], tonumber(ARGV[3])
${NOW}
local holder = redis.call('GET', KEYS[1])
if ${OWNS('holder', 'owner')} then
  -- A release handed us the lock already: refresh its TTL, so that this claim's send time is
  -- a sound start for its validity, and report its fence.
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  local c = tonumber(redis.call('GET', KEYS[2]))
  return {1, c - c % 2}
end
local ticket = redis.call('ZSCORE', KEYS[3], owner)
if not ticket then
  ticket = redis.call('INCR', KEYS[5])
  redis.call('ZADD', KEYS[3], ticket, owner)
  local c = tonumber(redis.call('GET', KEYS[2]) or '0')
  if c % 2 == 0 then redis.call('INCR', KEYS[2]) end
end
-- A lock handed over by a release lives at most entryTtl before its new holder renews it,
-- so a waiter that died in the queue blocks the lock no longer than its place would.
redis.call('HSET', KEYS[4], owner, now + entryTtl, 't:' .. owner, math.min(tonumber(ARGV[2]), entryTtl))
redis.call('PEXPIRE', KEYS[3], entryTtl * 2)
redis.call('PEXPIRE', KEYS[4], entryTtl * 2)
redis.call('PEXPIRE', KEYS[5], entryTtl * 2)
${PRUNE('KEYS[3]', 'KEYS[4]')}
if not holder then
  local head = redis.call('ZRANGE', KEYS[3], 0, 0)[1]
  if head == nil or head == owner then
    if head then
      redis.call('ZREM', KEYS[3], owner)
      redis.call('HDEL', KEYS[4], owner, 't:' .. owner)
    end
    local more = redis.call('EXISTS', KEYS[3]) == 1
    local value = owner
    if more then value = owner .. '${WAITING_MARK}' end
    redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
    return {1, next_fence(KEYS[2], more)}
  end
  return {0, false, -1, tonumber(ticket)}
end
-- Held: mark it, so that its release hands it to the head of the line and announces that.
if string.sub(holder, -${WAITING_MARK.length}) ~= '${WAITING_MARK}' then
  redis.call('SET', KEYS[1], holder .. '${WAITING_MARK}', 'XX', 'KEEPTTL')
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
  `${NEXT_FENCE}
${NOW}
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1], 't:' .. ARGV[1])
local current = redis.call('GET', KEYS[3])
local handedToUs = ${OWNS('current', 'ARGV[1]')}
if handedToUs then redis.call('DEL', KEYS[3]) end
if handedToUs or (removed == 1 and redis.call('EXISTS', KEYS[3]) == 0) then
  ${PRUNE('KEYS[1]', 'KEYS[2]')}
  ${HAND_OVER('KEYS[3]', 'KEYS[4]', 'KEYS[1]', 'KEYS[2]', 'ARGV[2]')}
end
return removed
`,
);

/** Owner-checked extend (a lock marked as waited for is still its owner's). KEYS: lock. ARGV: owner, ttl. */
export const EXTEND = script(
  1,
  `
local v = redis.call('GET', KEYS[1])
if ${OWNS('v', 'ARGV[1]')} then
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
 *
 * One MGET reads every owner, then one PEXPIRE per lock still held by its owner: a renewal
 * costs Redis one command per lock plus two per batch (this EVALSHA and the MGET), where a
 * GET + PEXPIRE per lock cost two.
 */
export const EXTEND_MANY = script(
  0,
  `
local out = {}
local values = redis.call('MGET', unpack(KEYS))
for i, key in ipairs(KEYS) do
  local v, owner = values[i], ARGV[2 * i - 1]
  if ${OWNS('v', 'owner')} then
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

/**
 * Owner-checked release that wakes watchers. Keys: lock. Arguments: owner, channel.
 * Reply: 1 released, 0 not found, -1 held by someone else.
 */
export const RELEASE = batchable(
  'release',
  { keys: ['lock'], args: 1, derived: ['channel'] },
  `
local function release(lock, owner, channel)
  local v = redis.call('GET', lock)
  if not v then return 0 end
  if v ~= owner then return -1 end
  redis.call('DEL', lock)
  redis.call('PUBLISH', channel, 'free')
  return 1
end`,
);

/**
 * Fair release. An unmarked lock (nobody queued) is deleted and that is all: no queue lookup, no
 * PUBLISH. A marked one (see {@link WAITING_MARK}) goes straight to the first live waiter (and
 * that is announced), or is freed if every waiter's place expired.
 * Keys: lock, queue, queueExpiry, fence. Arguments: owner, channel.
 *
 * No wake-up is lost in between: a waiter joins the queue and marks the lock in one script
 * (CLAIM_FAIR), after subscribing, so it runs either before this release (which then sees the
 * mark and hands over) or after it (and then finds the lock free and takes it).
 */
export const RELEASE_FAIR = batchable(
  'release_fair',
  { keys: ['lock', 'queue', 'queueExpiry', 'fence'], args: 1, derived: ['channel'] },
  `${NEXT_FENCE}
local function release_fair(lock, queue, expiry, fence, owner, channel)
  local v = redis.call('GET', lock)
  if v == owner then
    redis.call('DEL', lock)
    return 1
  end
  if not v then return 0 end
  if v ~= owner .. '${WAITING_MARK}' then return -1 end
  redis.call('DEL', lock)
  ${NOW}
  ${PRUNE('queue', 'expiry')}
  ${HAND_OVER('lock', 'fence', 'queue', 'expiry', 'channel')}
  return 1
end`,
);

/**
 * Who holds a lock (fair mode). KEYS: lock, fence. Reply: `{owner or nil, pttl, fence or nil}`.
 * The counter's low bit is the waiting flag (see NEXT_FENCE), so the holder's fence is the
 * counter without it.
 */
export const INSPECT_FAIR = script(
  2,
  `
local c = redis.call('GET', KEYS[2])
if c then c = tonumber(c); c = c - c % 2 end
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1]), c}
`,
);

/** Who holds a lock (Redlock nodes). KEYS: lock, fence. Reply: `{owner or nil, pttl, fence or nil}`. */
export const INSPECT = script(
  2,
  `
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[2])}
`,
);

/**
 * Redlock's second round: raises the fence counter to at least the grant's fence, and says
 * whether this node still holds the lock for the grant's owner (the raise counts towards the
 * grant only then; see `RedlockBackend.acquire` for why). The counter is raised either way: a
 * counter only ever grows, so a raise never harms. KEYS: lock, fence. ARGV: owner, fence.
 * Reply: 1 held by owner, 0 not.
 */
export const RAISE_FENCE = script(
  2,
  `
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if current < tonumber(ARGV[2]) then redis.call('SET', KEYS[2], ARGV[2]) end
local v = redis.call('GET', KEYS[1])
if ${OWNS('v', 'ARGV[1]')} then return 1 end
return 0
`,
);
