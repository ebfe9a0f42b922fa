// The Lua that keeps a shop's cost budget in Redis, atomically for every process.

// Leaky bucket mirror: `available` points at time `ts`, restored at `rate`/s
// up to `max`. A reservation subtracts at once and may take `available` below
// zero: the reserving caller then waits until restore has paid it back, so
// callers are served in reservation order and together never spend more than
// the bucket holds. Only the next `ahead` ms of restore can be reserved; a
// caller further back is told when to ask again. why: a reservation is a
// promise made with today's figures; refunds, a first sync with the shop's
// real bucket or a correction must reach callers that are still waiting.
// Responses refund (requested − actual) and pull the mirror down to what
// Shopify reports, less what is still in flight.
export const RESERVE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'available', 'ts', 'max', 'rate')
local max = tonumber(b[3]) or tonumber(ARGV[3])
local rate = tonumber(b[4]) or tonumber(ARGV[4])
local available = tonumber(b[1]) or max
local ts = tonumber(b[2]) or now
local cost = tonumber(redis.call('HGET', KEYS[3], ARGV[2])) or tonumber(ARGV[1])
if cost > max then cost = max end
available = math.min(max, available + math.max(0, now - ts) * rate / 1000) - cost
local wait = 0
if available < 0 then wait = math.ceil(-available * 1000 / rate) end
if wait > tonumber(ARGV[8]) then
  return { tostring(cost), wait, '' }
end
redis.call('HSET', KEYS[1], 'available', tostring(available), 'ts', tostring(now), 'max', tostring(max), 'rate', tostring(rate))
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local member = ARGV[5] .. '|' .. tostring(cost)
redis.call('ZADD', KEYS[2], now + wait + tonumber(ARGV[7]), member)
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return { tostring(cost), wait, member }
`

export const SETTLE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'available', 'ts', 'max', 'rate', 'synced')
local max = tonumber(b[3]) or tonumber(ARGV[9])
local rate = tonumber(b[4]) or tonumber(ARGV[10])
local available = tonumber(b[1]) or max
local ts = tonumber(b[2]) or now
available = math.min(max, available + math.max(0, now - ts) * rate / 1000)
local reserved = tonumber(ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local inflight = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  inflight = inflight + (tonumber(string.match(m, '|(.*)$')) or 0)
end
local charged = tonumber(ARGV[3])
if charged >= 0 then available = available + reserved - charged end
local requested = tonumber(ARGV[4])
if requested >= 0 and ARGV[5] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[5], tostring(requested))
  redis.call('PEXPIRE', KEYS[3], ARGV[12])
end
local synced = b[5]
local obsMax = tonumber(ARGV[6])
if obsMax >= 0 then
  max = obsMax
  rate = tonumber(ARGV[8])
  local candidate = tonumber(ARGV[7]) - inflight
  if synced ~= '1' or candidate < available then available = candidate end
  synced = '1'
end
available = math.min(max, available)
redis.call('HSET', KEYS[1], 'available', tostring(available), 'ts', tostring(now), 'max', tostring(max), 'rate', tostring(rate), 'synced', synced or '0')
redis.call('PEXPIRE', KEYS[1], ARGV[11])
return tostring(available)
`
