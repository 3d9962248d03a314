/**
 * One Lua script per algorithm, each a line-by-line mirror of the TypeScript
 * function in ../algorithms (the conformance suite checks they agree). Every
 * script is one round trip: read state, decide, write state, PEXPIRE so idle
 * keys vanish.
 *
 * KEYS[1]  the state key (a hash; a list for the sliding window log).
 * ARGV[1]  now in ms, or "" to use Redis TIME (one clock for every limiter).
 * ARGV[2]  cost; ARGV[3..] the compiled policy numbers listed per script.
 * Reply    {allowed 0|1, remaining, resetMs, retryAfterMs, delayMs}.
 * (FIXED_WINDOW_SERVER_CLOCK, the fixed window on Redis's clock, has its own
 * arguments, counter-key layout and short reply: see its comment.)
 *
 * State numbers are written with %.17g, which round-trips an IEEE double
 * exactly, so a state read back is bit-identical to the one computed.
 */
import type { AlgorithmName } from "../policy.js";

/**
 * Sets now (ARGV[1], else Redis TIME), grace and cost: how every script but
 * FIXED_WINDOW_SERVER_CLOCK begins.
 */
const CLOCK = `
local now
-- An injected clock (tests, replays) does not run at Redis speed: keep keys
-- longer than their logical TTL so real time cannot expire them early.
-- Expired and idle states decide alike, so this changes memory, not answers.
local grace = 0
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
  grace = 600000
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local cost = tonumber(ARGV[2])`;

const PRELUDE = `${CLOCK}
local function num(x) return string.format('%.17g', x) end
local function keep(ttl, ...)
  if ttl > 0 then
    redis.call('HSET', KEYS[1], ...)
    redis.call('PEXPIRE', KEYS[1], ttl + grace)
  else
    redis.call('DEL', KEYS[1])
  end
end
`;

const TOKEN_BUCKET = `${PRELUDE}
local capacity, unit, refill = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local full = capacity * unit
local need = cost * unit
local s = redis.call('HMGET', KEYS[1], 'l', 't')
local level = full
local last = now
if s[1] then
  local elapsed = math.max(0, now - tonumber(s[2]))
  level = math.min(full, tonumber(s[1]) + elapsed * refill)
  last = math.max(now, tonumber(s[2]))
end
local allowed, retry = 0, 0
if need > full then
  retry = -1
elseif level >= need then
  level = level - need
  allowed = 1
elseif refill > 0 then
  retry = math.ceil((need - level) / refill)
else
  retry = -1
end
local reset = 0
if refill > 0 then reset = math.ceil((full - level) / refill) end
keep(reset, 'l', num(level), 't', num(last))
return {allowed, math.floor(level / unit), reset, retry, 0}
`;

const LEAKING_BUCKET = `${PRELUDE}
local capacity, unit, refill = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local queue, max_wait = tonumber(ARGV[6]), tonumber(ARGV[7])
local full = capacity * unit
local need = cost * unit
local s = redis.call('HMGET', KEYS[1], 'l', 't')
local level = 0
local last = now
if s[1] then
  local elapsed = math.max(0, now - tonumber(s[2]))
  level = math.max(0, tonumber(s[1]) - elapsed * refill)
  last = math.max(now, tonumber(s[2]))
end
local function drain(units)
  if refill > 0 then return math.ceil(units / refill) end
  return 0
end
local allowed, retry, delay = 0, 0, 0
if need > full or refill == 0 then
  retry = -1
else
  local wait = 0
  if queue == 1 then wait = drain(level) end
  local overflow = 0
  if level + need > full then overflow = drain(level + need - full) end
  local over_wait = 0
  if queue == 1 and wait > max_wait then over_wait = wait - max_wait end
  if overflow == 0 and over_wait == 0 then
    level = level + need
    allowed = 1
    delay = wait
  else
    retry = math.max(overflow, over_wait)
  end
end
local reset = drain(level)
keep(reset, 'l', num(level), 't', num(last))
return {allowed, math.floor((full - level) / unit), reset, retry, delay}
`;

// The fixed window with an injected clock (tests, replays): Redis expiry
// cannot follow a clock Redis does not know, so the window start is kept in
// the state. (On Redis's own clock, FIXED_WINDOW_SERVER_CLOCK below is used.)
// The count lives in a hash field named after the window start and is
// incremented optimistically (one HINCRBY when admitted; a second one undoes
// it when denied, so denied requests are not counted). The first hit of a
// window sets the expiry and drops fields of older windows.
const FIXED_WINDOW = `${CLOCK}
local call = redis.call
local key = KEYS[1]
local limit, period = tonumber(ARGV[3]), tonumber(ARGV[4])
local start = now - (now % period)
local field = string.format('%d', start)
local reset = start + period - now
local count = call('HINCRBY', key, field, cost)
if count <= limit then
  if count == cost then
    call('PEXPIRE', key, reset + grace)
    if call('HLEN', key) > 1 then
      for _, old in ipairs(call('HKEYS', key)) do
        if old ~= field then call('HDEL', key, old) end
      end
    end
  end
  return {1, limit - count, reset, 0, 0}
end
count = call('HINCRBY', key, field, -cost)
-- A window with count 0 is the same as no state.
if count == 0 then call('DEL', key) end
local retry = reset
if cost > limit then retry = -1 end
return {0, limit - count, reset, retry, 0}
`;

/**
 * The fixed window on Redis's own clock: the default, envoy's default
 * algorithm and the hot path of most deployments, so it is written for the
 * least Redis work. The count is a plain string key that expires exactly at
 * the end of its epoch-aligned window (set from TIME at the window's first
 * hit), so a live key always holds the current window's count and a hit on
 * it needs only INCRBY and PTTL: no TIME, no number formatting, no hash.
 * Redis keeps a key alive through its expiry millisecond itself, where the
 * window is already over (reset 0): that, like a key without expiry, starts
 * a new window. Denied requests are taken back out (DECRBY; DEL at 0), so
 * only admitted ones count, as in the algorithm.
 *
 * ARGV[1] cost, ARGV[2] limit, ARGV[3] period in ms.
 * Reply {count including this request, ms until the window ends}: the
 * request was admitted iff that count <= limit (the store derives the
 * rest of the decision; see fixedWindowDecision in redis-store.ts).
 */
export const FIXED_WINDOW_SERVER_CLOCK = `
local key = KEYS[1]
local cost = ARGV[1]
local count = redis.call('INCRBY', key, cost)
local reset = 0
if count ~= tonumber(cost) then reset = redis.call('PTTL', key) end
if reset <= 0 then
  local t = redis.call('TIME')
  local now = t[1] * 1000 + math.floor(t[2] / 1000)
  local period = tonumber(ARGV[3])
  local window_end = now - now % period + period
  redis.call('SET', key, cost, 'PXAT', window_end)
  count = tonumber(cost)
  reset = window_end - now
end
if count > tonumber(ARGV[2]) and redis.call('DECRBY', key, cost) == 0 then
  redis.call('DEL', key)
end
return {count, reset}
`;

const SLIDING_WINDOW_LOG = `${CLOCK}
local limit, period = tonumber(ARGV[3]), tonumber(ARGV[4])
local horizon = now - period
local count = redis.call('LLEN', KEYS[1])
while count > 0 do
  local head = tonumber(redis.call('LINDEX', KEYS[1], 0))
  if head > horizon then break end
  redis.call('LPOP', KEYS[1])
  count = count - 1
end
if cost <= limit and count + cost <= limit then
  -- RPUSH in slices: unpack() of a huge table overflows Lua's C stack.
  local stamp = string.format('%.17g', now)
  local left = cost
  while left > 0 do
    local n = math.min(left, 512)
    local stamps = {}
    for i = 1, n do stamps[i] = stamp end
    redis.call('RPUSH', KEYS[1], unpack(stamps))
    left = left - n
  end
  count = count + cost
  redis.call('PEXPIRE', KEYS[1], period + grace)
  return {1, limit - count, period, 0, 0}
end
local reset = 0
if count > 0 then
  reset = tonumber(redis.call('LINDEX', KEYS[1], -1)) + period - now
  redis.call('PEXPIRE', KEYS[1], reset + grace)
end
local retry = -1
if cost <= limit then
  retry = tonumber(redis.call('LINDEX', KEYS[1], count + cost - limit - 1)) + period - now
end
return {0, limit - count, reset, retry, 0}
`;

const SLIDING_WINDOW_COUNTER = `${PRELUDE}
local limit, period = tonumber(ARGV[3]), tonumber(ARGV[4])
local start = now - (now % period)
local s = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
local current, previous = 0, 0
if s[1] then
  local w = tonumber(s[1])
  if w == start then
    current = tonumber(s[2])
    previous = tonumber(s[3])
  elseif w == start - period then
    previous = tonumber(s[2])
  end
end
local elapsed = now - start
local function weighted(cur) return previous * (period - elapsed) + cur * period end
local function remaining_of(cur) return math.max(0, math.floor((limit * period - weighted(cur)) / period)) end
local function reset_of(cur)
  if cur > 0 then return 2 * period - elapsed end
  if previous > 0 then return period - elapsed end
  return 0
end
local ttl = 2 * period - elapsed
if weighted(current) + cost * period <= limit * period then
  current = current + cost
  keep(ttl, 'w', num(start), 'c', num(current), 'p', num(previous))
  return {1, remaining_of(current), reset_of(current), 0, 0}
end
local retry
if cost > limit then
  retry = -1
elseif current + cost <= limit then
  retry = period - math.floor(((limit - current - cost) * period) / previous) - elapsed
else
  retry = period - elapsed + math.max(0, period - math.floor(((limit - cost) * period) / current))
end
if retry ~= -1 then retry = math.max(1, retry) end
keep(ttl, 'w', num(start), 'c', num(current), 'p', num(previous))
return {0, remaining_of(current), reset_of(current), retry, 0}
`;

const GCRA = `${PRELUDE}
local capacity, interval, tolerance = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local s = redis.call('HGET', KEYS[1], 'tat')
local tat = now
if s then tat = math.max(tonumber(s), now) end
local function remaining_at(x)
  if interval > 0 then return math.max(0, math.floor((tolerance - (x - now)) / interval)) end
  return 0
end
if cost > capacity then
  local reset = math.ceil(tat - now)
  keep(reset, 'tat', num(tat))
  return {0, remaining_at(tat), reset, -1, 0}
end
local new_tat = tat + cost * interval
if new_tat - now <= tolerance then
  local reset = math.ceil(new_tat - now)
  keep(reset, 'tat', num(new_tat))
  return {1, remaining_at(new_tat), reset, 0, 0}
end
local reset = math.ceil(tat - now)
keep(reset, 'tat', num(tat))
return {0, remaining_at(tat), reset, math.ceil(new_tat - tolerance - now), 0}
`;

export const LUA_SCRIPTS: Record<AlgorithmName, string> = {
  token_bucket: TOKEN_BUCKET,
  leaking_bucket: LEAKING_BUCKET,
  fixed_window: FIXED_WINDOW,
  sliding_window_log: SLIDING_WINDOW_LOG,
  sliding_window_counter: SLIDING_WINDOW_COUNTER,
  gcra: GCRA,
};
