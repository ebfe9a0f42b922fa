// The Lua that keeps the TOP call budget and bans in Redis, atomically for
// every process.

// Two token buckets, the app's and the seller's (`tokens` at `ts`, refilled at
// `rate`/s up to `burst`). A call takes one token from each, or none: it is
// told how long until both have one. A ban (a key with a TTL) in either scope
// stops every call until it lapses; its remaining ms are returned instead.
// KEYS: appBucket, sellerBucket, appBan, sellerBan. ARGV: appRate, appBurst,
// sellerRate, sellerBurst, hasSeller (1/0), bucketTtlMs.
export const TAKE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local hasSeller = ARGV[5] == '1'
local ban = redis.call('PTTL', KEYS[3])
if hasSeller then ban = math.max(ban, redis.call('PTTL', KEYS[4])) end
if ban > 0 then return { 'ban', ban } end
local function level(key, rate, burst)
  local b = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(b[1]) or burst
  local ts = tonumber(b[2]) or now
  return math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
end
local appRate, appBurst = tonumber(ARGV[1]), tonumber(ARGV[2])
local sellerRate, sellerBurst = tonumber(ARGV[3]), tonumber(ARGV[4])
local app = level(KEYS[1], appRate, appBurst)
local wait = 0
if app < 1 then wait = math.ceil((1 - app) * 1000 / appRate) end
local seller = 0
if hasSeller then
  seller = level(KEYS[2], sellerRate, sellerBurst)
  if seller < 1 then wait = math.max(wait, math.ceil((1 - seller) * 1000 / sellerRate)) end
end
if wait > 0 then return { 'wait', wait } end
redis.call('HSET', KEYS[1], 'tokens', tostring(app - 1), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[6])
if hasSeller then
  redis.call('HSET', KEYS[2], 'tokens', tostring(seller - 1), 'ts', tostring(now))
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
return { 'ok', 0 }
`

// Records a ban, never shortening one already in force. KEYS: ban. ARGV: ms, reason.
export const BAN_SCRIPT = `
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then redis.call('SET', KEYS[1], ARGV[2], 'PX', ms) end
return redis.call('PTTL', KEYS[1])
`
