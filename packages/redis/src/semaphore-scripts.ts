/**
 * The semaphore and read-write lock scripts: core's rules (`decideSemaphore` in
 * `@lock/core`'s `semaphore-rules.ts`, listed in its `backend.ts`) ported to Lua over the
 * structures of {@link SemaphoreKeys}, one script per operation, expiry judged by the server's
 * `TIME`. Every reply ends with that `TIME` reading in milliseconds, so a test can replay the
 * same requests through `decideSemaphore` at the same instants and compare. User data (keys,
 * owner tokens) reaches them only as KEYS/ARGV.
 * @module
 */
import type { SemaphoreKeys } from './keys.js';
import { type LockScript, script } from './scripts.js';

/**
 * Shared Lua: the server clock, chunked calls, and rule 1 (dropping expired holders and waiters)
 * and rule 7 (waking `watch(key)` subscribers).
 */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- redis.call(cmd, key, …list) in slices: Lua's unpack() has a stack limit of a few thousand.
local function sliced(cmd, key, list)
  local out = {}
  for i = 1, #list, 500 do
    local part = redis.call(cmd, key, unpack(list, i, math.min(i + 499, #list)))
    if type(part) == 'table' then
      for j = 1, #part do out[#out + 1] = part[j] end
    end
  end
  return out
end

-- An entry is "<count> <mode> <fence>".
local function count_of(entry) return tonumber(string.match(entry, '^(%d+)')) end
local function fence_of(entry) return tonumber(string.match(entry, '(%d+)$')) end

-- Rule 1: drops the holders and waiters whose expiry has passed (alive while expiry > now).
local function purge(meta, holders, line, line_exp, entries)
  local gone = redis.call('ZRANGEBYSCORE', holders, '-inf', now)
  if #gone > 0 then
    local used = 0
    local data = sliced('HMGET', entries, gone)
    for i = 1, #data do
      if data[i] then used = used + count_of(data[i]) end
    end
    sliced('ZREM', holders, gone)
    sliced('HDEL', entries, gone)
    if used > 0 then redis.call('HINCRBY', meta, 'inuse', -used) end
  end
  local late = redis.call('ZRANGEBYSCORE', line_exp, '-inf', now)
  if #late > 0 then
    sliced('ZREM', line, late)
    sliced('ZREM', line_exp, late)
    sliced('HDEL', entries, late)
  end
  return #gone + #late > 0
end

-- Rule 7: permits were freed or the line moved. Only someone in line can be waiting for that
-- (a waiter subscribes before its first try and keeps its place while it waits), so an empty
-- line publishes nothing.
local function wake(line, channel)
  if redis.call('ZCARD', line) > 0 then redis.call('PUBLISH', channel, 's') end
end
`;

/** Keys, in order, of every semaphore script but inspect. */
export function semaphoreScriptKeys(keys: SemaphoreKeys): string[] {
  return [keys.meta, keys.holders, keys.line, keys.lineExpiry, keys.entries];
}

/**
 * Acquire (rules 1–6). KEYS: meta, holders, line, lineExpiry, entries. ARGV: owner, mode,
 * count, permits, ttl, wait (1/0), channel.
 * Replies `{1, fence, now}`, `{0, inUse, holders, ahead, retryAfterMs or -1, now}`, or
 * `{2, kind, permits, now}` (mismatch).
 */
export const SEMAPHORE_ACQUIRE: LockScript = script(
  5,
  `${PRELUDE}
local meta, holders, line, line_exp, entries = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local owner, mode, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
local permits, ttl, wait, channel = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6] == '1', ARGV[7]
local kind = 'read-write'
if mode == 'permit' then kind = 'semaphore' end
local purged = purge(meta, holders, line, line_exp, entries)
local m = redis.call('HMGET', meta, 'kind', 'permits', 'inuse')
-- Every holder holds at least one permit, so permits in use tell whether anyone holds.
local inuse = tonumber(m[3]) or 0
local waiting = redis.call('ZCARD', line)
-- Rule 2: a busy record keeps its kind and count; an idle one takes the request's.
if m[1] ~= kind or tonumber(m[2]) ~= permits then
  if inuse > 0 or waiting > 0 then
    if purged then wake(line, channel) end
    return {2, m[1], tonumber(m[2]), now}
  end
  redis.call('HSET', meta, 'kind', kind, 'permits', permits)
end
local expires = now + ttl
-- Rule 3: an owner that holds already is granted again with its own fence.
if redis.call('ZSCORE', holders, owner) then
  redis.call('ZADD', holders, expires, owner)
  if purged then wake(line, channel) end
  return {1, fence_of(redis.call('HGET', entries, owner)), now}
end
-- Rule 4: strict FIFO with reservation for everyone ahead in line.
local free = permits - inuse
local rank = redis.call('ZRANK', line, owner)
local ahead = waiting
if rank then ahead = rank end
local blocked = false
local i = 0
while i < ahead and not blocked do
  local last = math.min(i + 99, ahead - 1)
  local data = sliced('HMGET', entries, redis.call('ZRANGE', line, i, last))
  for j = 1, #data do
    local c = count_of(data[j])
    if c > free then
      blocked = true
      break
    end
    free = free - c
  end
  i = last + 1
end
if not blocked and count <= free then
  -- Rule 5: a grant takes the next fence.
  local fence = redis.call('HINCRBY', meta, 'fence', 1)
  redis.call('HINCRBY', meta, 'inuse', count)
  redis.call('ZADD', holders, expires, owner)
  redis.call('HSET', entries, owner, count .. ' ' .. mode .. ' ' .. fence)
  if rank then
    redis.call('ZREM', line, owner)
    redis.call('ZREM', line_exp, owner)
  end
  if purged then wake(line, channel) end
  return {1, fence, now}
end
-- Denied: when will something change by itself (a holder or a waiter ahead expiring)?
local retry_at = false
local first = redis.call('ZRANGE', holders, 0, 0, 'WITHSCORES')
if #first > 0 then retry_at = tonumber(first[2]) end
if ahead > 0 then
  local soonest = false
  if rank then
    for k = 0, ahead - 1, 500 do
      local owners = redis.call('ZRANGE', line, k, math.min(k + 499, ahead - 1))
      local scores = redis.call('ZMSCORE', line_exp, unpack(owners))
      for j = 1, #scores do
        local s = tonumber(scores[j])
        if s and (not soonest or s < soonest) then soonest = s end
      end
    end
  else
    soonest = tonumber(redis.call('ZRANGE', line_exp, 0, 0, 'WITHSCORES')[2])
  end
  if soonest and (not retry_at or soonest < retry_at) then retry_at = soonest end
end
local retry = -1
if retry_at then retry = math.max(0, retry_at - now) end
-- Rule 6: join the line, or keep this owner's place, refreshed once a third of its TTL passed.
if wait then
  local write = true
  if rank then
    write = tonumber(redis.call('ZSCORE', line_exp, owner)) - now <= ttl * 2 / 3
  else
    redis.call('ZADD', line, redis.call('HINCRBY', meta, 'ticket', 1), owner)
  end
  if write then
    redis.call('ZADD', line_exp, expires, owner)
    redis.call('HSET', entries, owner, count .. ' ' .. mode .. ' 0')
  end
end
if purged then wake(line, channel) end
return {0, inuse, redis.call('ZCARD', holders), ahead, retry, now}
`,
);

/** Lua function `extend(keys…, owner, ttl, channel)` → 1 renewed, 0 not held (a place in line is not a holding). */
const EXTEND_FN = `
local function extend(meta, holders, line, line_exp, entries, owner, ttl, channel)
  local purged = purge(meta, holders, line, line_exp, entries)
  local result = 0
  if redis.call('ZSCORE', holders, owner) then
    redis.call('ZADD', holders, now + tonumber(ttl), owner)
    result = 1
  end
  if purged then wake(line, channel) end
  return result
end
`;

/** Owner-checked extend. KEYS: as acquire. ARGV: owner, ttl, channel. Reply `{1 | 0, now}`. */
export const SEMAPHORE_EXTEND: LockScript = script(
  5,
  `${PRELUDE}${EXTEND_FN}
return {extend(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[2], ARGV[3]), now}
`,
);

/**
 * Owner-checked extend of many holdings (standalone server: the keys may span many semaphores).
 * KEYS: 5 per holding, as acquire. ARGV: owner, ttl, channel per holding.
 * Reply `{r1, r2, …, now}`.
 */
export const SEMAPHORE_EXTEND_MANY: LockScript = script(
  0,
  `${PRELUDE}${EXTEND_FN}
local out = {}
for i = 0, #KEYS / 5 - 1 do
  local k, a = i * 5, i * 3
  out[i + 1] = extend(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5],
    ARGV[a + 1], ARGV[a + 2], ARGV[a + 3])
end
out[#out + 1] = now
return out
`,
);

/**
 * Owner-checked release; also leaves the line. KEYS: as acquire. ARGV: owner, channel.
 * Reply `{1, now}` when a holding was removed, else `{0, now}` (also when only a place in line was).
 */
export const SEMAPHORE_RELEASE: LockScript = script(
  5,
  `${PRELUDE}
local meta, holders, line, line_exp, entries = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local owner, channel = ARGV[1], ARGV[2]
local purged = purge(meta, holders, line, line_exp, entries)
local entry = redis.call('HGET', entries, owner)
local held = redis.call('ZREM', holders, owner)
if held == 1 then redis.call('HINCRBY', meta, 'inuse', -count_of(entry)) end
local queued = redis.call('ZREM', line, owner)
if queued == 1 then redis.call('ZREM', line_exp, owner) end
if held == 1 or queued == 1 then redis.call('HDEL', entries, owner) end
if purged or held == 1 or queued == 1 then wake(line, channel) end
return {held, now}
`,
);

/**
 * The live holders and waiters, read only. KEYS: meta, holders, lineExpiry, entries.
 * Reply `{now}` when idle, else `{now, kind, permits, fence, waiting, owner1, expiry1, entry1, …}`.
 */
export const SEMAPHORE_INSPECT: LockScript = script(
  4,
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local live = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf', 'WITHSCORES')
local waiting = redis.call('ZCOUNT', KEYS[3], '(' .. now, '+inf')
if #live == 0 and waiting == 0 then return {now} end
local m = redis.call('HMGET', KEYS[1], 'kind', 'permits', 'fence')
local out = {now, m[1], tonumber(m[2]), tonumber(m[3]) or 0, waiting}
for i = 1, #live, 2 do
  out[#out + 1] = live[i]
  out[#out + 1] = tonumber(live[i + 1])
  out[#out + 1] = redis.call('HGET', KEYS[4], live[i])
end
return out
`,
);
