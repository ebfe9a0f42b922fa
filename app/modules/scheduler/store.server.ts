// The scheduler's state, all of it in Redis so every web and worker process
// sees one fleet: waiting work grouped by class/tenant/model, each backend's
// in-flight renders, loaded model and circuit, the round-robin cursors, and a
// dispatch lock. Every change is one Lua script (atomic); the lock only
// serialises dispatch decisions. Keys: `${QUEUE_PREFIX}:sched:*`.
//
// why Lua builds key names from a base: the key set of a script depends on its
// data (a group's key), so this needs one Redis, not a Cluster (as BullMQ's
// own prefix would without a hash tag). See docs/decisions/006-scheduler.md.
import type { Redis } from 'ioredis'
import { createHash } from 'node:crypto'
import { TIMING_WEIGHT, type CircuitState, type GroupView, type Needs, type Timing, type WorkClass } from './policy.ts'

export interface SubmitItem {
  renderId: string
  tenant: string
  workClass: WorkClass
  /** The BullMQ priority label the render was queued with. */
  priority: string
  model: string
  needs: Needs
  /** The backend the render was made for; where it goes when no connected backend can take it. */
  home: string
  excluded?: string[]
  /** Enqueue time (ms): what waits are measured from. */
  at: number
  /** Not before this time (a retry's backoff). */
  readyAt?: number
}

export interface StoredItem {
  renderId: string
  tenant: string
  workClass: WorkClass
  priority: string
  model: string
  needs: Needs
  home: string
  excluded: string[]
  seq: number
  at: number
  attempt: number
  state: 'pending' | 'delayed' | 'inflight'
  backend?: string
  dispatchedAt?: number
}

export interface Popped {
  renderId: string
  priority: string
  home: string
  /** A BullMQ job with this id exists already (an earlier attempt). */
  jobExists: boolean
  next: { seq: number; at: number } | null
}

export interface BackendState {
  busy: number
  model?: string
  circuit: CircuitState
  failures: number
  openedAt?: number
  /** When the backend stopped answering (the first unanswered render or failed health check since it last answered). */
  downSince?: number
  /** Moving averages of its render and model load times, from completions (policy.ts learnTiming). */
  renderMs?: number
  loadMs?: number
  /** When its oldest render in flight was dispatched. */
  busySince?: number
  byModel?: Record<string, Timing>
}

export interface StoreView {
  groups: GroupView[]
  backends: Record<string, BackendState>
  cursor: Partial<Record<WorkClass, string>>
  interactiveSeen: Record<string, number>
  /** When each model, and each tenant, last had a render dispatched. */
  lastServed: Record<string, number>
  tenantServed: Record<string, number>
  bulkTurn: Record<string, number>
  /** Renders each tenant has in flight on the backends asked about. */
  inflight: Record<string, number>
  /** Earliest time a delayed render becomes ready. */
  nextReadyAt?: number
}

export interface CircuitConfig {
  /** Consecutive backend failures that open the circuit. */
  threshold: number
  /** How long it stays open before one probe render is let through. */
  cooldownMs: number
}

export type Completion =
  /** The backend answered (a render, or a refusal of bad input): closes its circuit. */
  | 'ok'
  /** The backend failed the render (crashed, answered with an error): counts toward opening its circuit. */
  | 'fault'
  /** The backend did not answer (refused, unresolvable, timed out): a fault, and it is known down until it answers. */
  | 'down'
  /** Nothing is known about the backend (the render was canceled, or its job vanished). */
  | 'neutral'

// Shared Lua helpers: keys from the base, pending-set bookkeeping.
const LUA_HELPERS = `
local base = ARGV[1]
local function k(s) return base .. s end
local function addPending(id, group, meta, cls, tenant, seq)
  redis.call('HSET', k('item:' .. id), 'state', 'pending', 'readyAt', '')
  redis.call('ZADD', k('g:' .. group), seq, id)
  redis.call('HSET', k('groups'), group, meta)
  redis.call('ZADD', k('t:' .. cls .. ':' .. tenant), seq, id)
  redis.call('HINCRBY', k('tenants:' .. cls), tenant, 1)
end
local function removePending(id, group, cls, tenant)
  if redis.call('ZREM', k('g:' .. group), id) == 0 then return false end
  if redis.call('ZCARD', k('g:' .. group)) == 0 then redis.call('HDEL', k('groups'), group) end
  redis.call('ZREM', k('t:' .. cls .. ':' .. tenant), id)
  if redis.call('HINCRBY', k('tenants:' .. cls), tenant, -1) <= 0 then redis.call('HDEL', k('tenants:' .. cls), tenant) end
  return true
end
`

const SUBMIT = `${LUA_HELPERS}
local id, tenant, cls, prio, model, group, meta, home, excluded = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local at, readyAt, now = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local item = k('item:' .. id)
if redis.call('EXISTS', item) == 1 then return 0 end
local seq = redis.call('INCR', k('seq'))
redis.call('HSET', item, 'tenant', tenant, 'cls', cls, 'prio', prio, 'model', model, 'group', group, 'meta', meta,
  'home', home, 'excluded', excluded, 'seq', seq, 'at', at, 'attempt', 0)
if readyAt > now then
  redis.call('HSET', item, 'state', 'delayed', 'readyAt', readyAt)
  redis.call('ZADD', k('delayed'), readyAt, id)
else
  addPending(id, group, meta, cls, tenant, seq)
end
if cls == 'interactive' then redis.call('HSET', k('seen'), model, now) end
return seq
`

// Everything a dispatch decision reads, in one round trip (JSON), after
// making delayed renders whose time has come pending.
const VIEW = `${LUA_HELPERS}
local now = tonumber(ARGV[2])
local due = redis.call('ZRANGEBYSCORE', k('delayed'), '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  redis.call('ZREM', k('delayed'), id)
  local f = redis.call('HMGET', k('item:' .. id), 'state', 'group', 'meta', 'cls', 'tenant', 'seq')
  if f[1] == 'delayed' then addPending(id, f[2], f[3], f[4], f[5], tonumber(f[6])) end
end
local out = { groups = {}, backends = {}, cursor = {}, seen = {}, served = {}, tenants = {}, turns = {}, inflight = {} }
local metas = redis.call('HGETALL', k('groups'))
for i = 1, #metas, 2 do
  local group = metas[i]
  local head = redis.call('ZRANGE', k('g:' .. group), 0, 0, 'WITHSCORES')
  if head[1] then
    local at = redis.call('HGET', k('item:' .. head[1]), 'at')
    table.insert(out.groups, { key = group, meta = metas[i + 1], count = redis.call('ZCARD', k('g:' .. group)),
      seq = tonumber(head[2]), at = tonumber(at) or 0 })
  else
    redis.call('HDEL', k('groups'), group)
  end
end
for i = 3, #ARGV do
  local b = ARGV[i]
  local hash = {}
  local all = redis.call('HGETALL', k('b:' .. b))
  for i = 1, #all, 2 do hash[all[i]] = all[i + 1] end
  local flying = redis.call('ZRANGE', k('inflight:' .. b), 0, -1, 'WITHSCORES')
  for i = 1, #flying, 2 do
    local t = redis.call('HGET', k('item:' .. flying[i]), 'tenant')
    if t then out.inflight[t] = (out.inflight[t] or 0) + 1 end
  end
  out.backends[b] = { hash = hash, busy = #flying / 2, busySince = tonumber(flying[2]) or 0 }
end
out.cursor.interactive = redis.call('GET', k('rr:interactive')) or ''
out.cursor.bulk = redis.call('GET', k('rr:bulk')) or ''
local seen = redis.call('HGETALL', k('seen'))
for i = 1, #seen, 2 do out.seen[seen[i]] = tonumber(seen[i + 1]) end
local served = redis.call('HGETALL', k('served'))
for i = 1, #served, 2 do out.served[served[i]] = tonumber(served[i + 1]) end
local tenants = redis.call('HGETALL', k('servedTenant'))
for i = 1, #tenants, 2 do out.tenants[tenants[i]] = tonumber(tenants[i + 1]) end
local turns = redis.call('HGETALL', k('bulkTurn'))
for i = 1, #turns, 2 do out.turns[turns[i]] = tonumber(turns[i + 1]) end
local nxt = redis.call('ZRANGE', k('delayed'), 0, 0, 'WITHSCORES')
if nxt[2] then out.nextReadyAt = tonumber(nxt[2]) end
return cjson.encode(out)
`

const POP = `${LUA_HELPERS}
local group, backend, now, model, jobKey = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6]
local head = redis.call('ZRANGE', k('g:' .. group), 0, 0)
if not head[1] then
  redis.call('HDEL', k('groups'), group)
  return false
end
local id = head[1]
local item = k('item:' .. id)
local f = redis.call('HMGET', item, 'cls', 'tenant', 'prio', 'home', 'model')
-- why: an empty backend means "the one it was made for" (work no connected backend can take).
if backend == '' then backend = f[4] or 'unknown' end
removePending(id, group, f[1], f[2])
redis.call('HSET', item, 'state', 'inflight', 'backend', backend, 'dispatchedAt', now)
redis.call('ZADD', k('inflight:' .. backend), now, id)
redis.call('SADD', k('backends'), backend)
if model ~= '' then
  if redis.call('HGET', k('b:' .. backend), 'model') ~= model then redis.call('HSET', item, 'loaded', 1) end
  redis.call('HSET', k('b:' .. backend), 'model', model)
end
redis.call('SET', k('rr:' .. f[1]), f[2])
if f[5] then redis.call('HSET', k('served'), f[5], now) end
if f[2] then redis.call('HSET', k('servedTenant'), f[2], now) end
if f[1] == 'bulk' and f[2] then redis.call('HSET', k('bulkTurn'), f[2], redis.call('INCR', k('bulkSeq'))) end
local nxt = redis.call('ZRANGE', k('g:' .. group), 0, 0, 'WITHSCORES')
local nextAt = ''
if nxt[1] then nextAt = redis.call('HGET', k('item:' .. nxt[1]), 'at') or '' end
return { id, f[3] or '', f[4] or '', redis.call('EXISTS', jobKey .. id), nxt[2] or '', nextAt }
`

// Frees the slot, feeds the circuit, and either forgets the render or puts it
// back (a retry: delayed, or pending at once when it can fail over).
const COMPLETE = `${LUA_HELPERS}
local id, backend, now, outcome = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local threshold = tonumber(ARGV[6])
local retry, readyAt, group, meta, excluded = ARGV[7], tonumber(ARGV[8]), ARGV[9], ARGV[10], ARGV[11]
local weight = tonumber(ARGV[12])
local item = k('item:' .. id)
local removed = redis.call('ZREM', k('inflight:' .. backend), id)
local f = redis.call('HMGET', item, 'state', 'backend', 'cls', 'tenant', 'seq', 'dispatchedAt', 'loaded', 'model')
if f[1] == 'inflight' and f[2] and f[2] ~= backend then redis.call('ZREM', k('inflight:' .. f[2]), id) end
local b = k('b:' .. backend)
if outcome == 'ok' then
  redis.call('HSET', b, 'failures', 0, 'circuit', 'closed')
  redis.call('HDEL', b, 'openedAt', 'downSince')
  -- The backend's moving averages of render and load time, overall and for the model (policy.ts learnTiming).
  local at = tonumber(f[6])
  if f[1] == 'inflight' and f[2] == backend and at then
    local slot = math.max(0, now - at)
    local m = f[8] or ''
    local cur = redis.call('HMGET', b, 'renderMs', 'loadMs', 'render:' .. m, 'load:' .. m)
    local r, l, rm, lm = tonumber(cur[1]), tonumber(cur[2]), tonumber(cur[3]), tonumber(cur[4])
    local function blend(old, sample) if old then return old + weight * (sample - old) end return sample end
    if f[7] ~= '1' then
      redis.call('HSET', b, 'renderMs', blend(r, slot))
      if m ~= '' then redis.call('HSET', b, 'render:' .. m, blend(rm, slot)) end
    elseif (rm or r) then
      local sample = math.max(0, slot - (rm or r))
      redis.call('HSET', b, 'loadMs', blend(l, sample))
      if m ~= '' then redis.call('HSET', b, 'load:' .. m, blend(lm, sample)) end
    end
  end
elseif outcome == 'fault' or outcome == 'down' then
  -- why only when it did not answer: a server that failed one render still holds its model and takes work.
  if outcome == 'down' then redis.call('HSETNX', b, 'downSince', now) end
  local failures = redis.call('HINCRBY', b, 'failures', 1)
  -- why a fault while open re-opens: that was the half-open probe failing.
  if redis.call('HGET', b, 'circuit') == 'open' or failures >= threshold then
    redis.call('HSET', b, 'circuit', 'open', 'openedAt', now)
  end
end
if f[1] ~= 'inflight' then return 'gone' end
if retry == '1' then
  redis.call('HSET', item, 'group', group, 'meta', meta, 'excluded', excluded, 'backend', '', 'dispatchedAt', '')
  redis.call('HDEL', item, 'loaded')
  redis.call('HINCRBY', item, 'attempt', 1)
  if readyAt > now then
    redis.call('HSET', item, 'state', 'delayed', 'readyAt', readyAt)
    redis.call('ZADD', k('delayed'), readyAt, id)
  else
    addPending(id, group, meta, f[3], f[4], tonumber(f[5]))
  end
  return 'resubmitted'
end
redis.call('DEL', item)
return 'done'
`

// Undoes a dispatch that never reached a worker (the hand-off failed, or an
// earlier attempt's job is still finishing): the slot is freed, nothing is
// held against the backend.
const REQUEUE = `${LUA_HELPERS}
local id, backend, now, readyAt = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local item = k('item:' .. id)
redis.call('ZREM', k('inflight:' .. backend), id)
local f = redis.call('HMGET', item, 'state', 'group', 'meta', 'cls', 'tenant', 'seq')
if f[1] ~= 'inflight' then return 0 end
redis.call('HSET', item, 'backend', '', 'dispatchedAt', '')
if readyAt > now then
  redis.call('HSET', item, 'state', 'delayed', 'readyAt', readyAt)
  redis.call('ZADD', k('delayed'), readyAt, id)
else
  addPending(id, f[2], f[3], f[4], f[5], tonumber(f[6]))
end
return 1
`

const CANCEL = `${LUA_HELPERS}
local id = ARGV[2]
local item = k('item:' .. id)
local f = redis.call('HMGET', item, 'state', 'group', 'cls', 'tenant')
if not f[1] then return 'unknown' end
if f[1] == 'inflight' then return 'inflight' end
if f[1] == 'pending' then removePending(id, f[2], f[3], f[4]) end
redis.call('ZREM', k('delayed'), id)
redis.call('DEL', item)
return 'dropped'
`

const HEALTH = `${LUA_HELPERS}
local backend, ok, now, threshold, cooldown = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local b = k('b:' .. backend)
local circuit = redis.call('HGET', b, 'circuit')
if ok == '1' then
  redis.call('HDEL', b, 'downSince')
  -- why not closed at once: a server that answers health can still fail renders; one probe decides.
  if circuit == 'open' then redis.call('HSET', b, 'openedAt', now - cooldown) end
  return circuit or 'closed'
end
redis.call('HSETNX', b, 'downSince', now)
local failures = redis.call('HINCRBY', b, 'failures', 1)
if circuit == 'open' or failures >= threshold then redis.call('HSET', b, 'circuit', 'open', 'openedAt', now) end
return 'failed'
`

// Drops a group's waiting renders enqueued at or before the cutoff (they
// waited too long for a backend that is not answering); returns id and home.
const EXPIRE = `${LUA_HELPERS}
local group, cutoff = ARGV[2], tonumber(ARGV[3])
local out = {}
for _, id in ipairs(redis.call('ZRANGE', k('g:' .. group), 0, 499)) do
  local item = k('item:' .. id)
  local f = redis.call('HMGET', item, 'at', 'cls', 'tenant', 'home')
  if (tonumber(f[1]) or 0) > cutoff then break end
  removePending(id, group, f[2], f[3])
  redis.call('DEL', item)
  table.insert(out, id)
  table.insert(out, f[4] or '')
end
return out
`

// A lock with a token; a caller that finds it taken leaves a flag so the
// holder runs one more round before letting go (no lost wake-ups).
const LOCK = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
return 0
`
const UNLOCK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'lost' end
if redis.call('DEL', KEYS[2]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 'again'
end
redis.call('DEL', KEYS[1])
return 'released'
`
const EXTEND = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`

type Scripts = Record<'submit' | 'view' | 'pop' | 'complete' | 'requeue' | 'cancel' | 'health' | 'expire', (...args: (string | number)[]) => Promise<unknown>> & {
  lock: (lock: string, again: string, token: string, ttl: number) => Promise<number>
  unlock: (lock: string, again: string, token: string, ttl: number) => Promise<string>
  extend: (lock: string, token: string, ttl: number) => Promise<number>
}

const defined = new WeakSet<Redis>()

function scripts(redis: Redis): Scripts {
  if (!defined.has(redis)) {
    const noKeys = { submit: SUBMIT, view: VIEW, pop: POP, complete: COMPLETE, requeue: REQUEUE, cancel: CANCEL, health: HEALTH, expire: EXPIRE }
    for (const [name, lua] of Object.entries(noKeys)) redis.defineCommand(`sched_${name}`, { numberOfKeys: 0, lua })
    redis.defineCommand('sched_lock', { numberOfKeys: 2, lua: LOCK })
    redis.defineCommand('sched_unlock', { numberOfKeys: 2, lua: UNLOCK })
    redis.defineCommand('sched_extend', { numberOfKeys: 1, lua: EXTEND })
    defined.add(redis)
  }
  const r = redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>
  const call = (name: string) => (...args: (string | number)[]) => r[`sched_${name}`](...args)
  return {
    submit: call('submit'),
    view: call('view'),
    pop: call('pop'),
    complete: call('complete'),
    requeue: call('requeue'),
    cancel: call('cancel'),
    health: call('health'),
    expire: call('expire'),
    lock: (lock, again, token, ttl) => r.sched_lock(lock, again, token, ttl) as Promise<number>,
    unlock: (lock, again, token, ttl) => r.sched_unlock(lock, again, token, ttl) as Promise<string>,
    extend: (lock, token, ttl) => r.sched_extend(lock, token, ttl) as Promise<number>,
  }
}

interface GroupMeta {
  workClass: WorkClass
  tenant: string
  model: string
  needs: Needs
  excluded: string[]
}

/** Work that is alike shares a group; the key is stable for the same meta. */
export function groupOf(meta: GroupMeta): { key: string; meta: string } {
  const json = JSON.stringify({
    workClass: meta.workClass,
    tenant: meta.tenant,
    model: meta.model,
    needs: { ...meta.needs, only: meta.needs.only ? [...meta.needs.only].sort() : undefined },
    excluded: [...new Set(meta.excluded)].sort(),
  })
  return { key: `${meta.workClass}:${meta.tenant}:${createHash('sha1').update(json).digest('hex').slice(0, 16)}`, meta: json }
}

export interface SchedulerStore {
  readonly base: string
  submit(item: SubmitItem, now: number): Promise<boolean>
  /** What a dispatch decision needs, after promoting due delayed renders. */
  view(backendIds: string[], now: number, circuit: CircuitConfig): Promise<StoreView>
  pop(groupKey: string, backendId: string, now: number, model: string | undefined): Promise<Popped | undefined>
  complete(
    renderId: string,
    backendId: string,
    now: number,
    outcome: Completion,
    circuit: CircuitConfig,
    retry?: { readyAt: number; excluded: string[] },
  ): Promise<'done' | 'resubmitted' | 'gone'>
  requeue(renderId: string, backendId: string, now: number, readyAt: number): Promise<boolean>
  cancel(renderId: string): Promise<'dropped' | 'inflight' | 'unknown'>
  item(renderId: string): Promise<StoredItem | undefined>
  /** Which of these renders the scheduler knows (waiting or dispatched). */
  known(renderIds: string[]): Promise<Set<string>>
  inflight(): Promise<{ backend: string; renderId: string; dispatchedAt: number }[]>
  recordHealth(backendId: string, ok: boolean, now: number, circuit: CircuitConfig): Promise<void>
  /** Circuit and liveness of these backends (read only; busy is not counted). */
  backendStates(backendIds: string[], now: number, circuit: CircuitConfig): Promise<Record<string, BackendState>>
  /** Drops a group's waiting renders enqueued at or before `cutoff`; returns them with the backend each was made for. */
  expire(groupKey: string, cutoff: number): Promise<{ renderId: string; home: string }[]>
  /** 1-based place among waiting renders if dispatch followed the round robin; null when not waiting. */
  positionOf(renderId: string): Promise<{ state: StoredItem['state']; position: number } | undefined>
  lock(token: string, ttlMs: number): Promise<boolean>
  unlock(token: string, ttlMs: number): Promise<'again' | 'released' | 'lost'>
  extendLock(token: string, ttlMs: number): Promise<boolean>
}

/** A backend's hash (`b:<id>`) as Redis holds it; an empty one arrives from Lua's cjson as []. */
type BackendHash = Record<string, string> | []

/** Per-model timings from a backend hash's `render:<model>` / `load:<model>` fields. */
function byModelOf(hash: Record<string, string>): Record<string, Timing> | undefined {
  const out: Record<string, Timing> = {}
  for (const [field, value] of Object.entries(hash)) {
    const [kind, ...rest] = field.split(':')
    const model = rest.join(':')
    if (!model || (kind !== 'render' && kind !== 'load')) continue
    ;(out[model] ??= {})[kind === 'render' ? 'renderMs' : 'loadMs'] = Number(value)
  }
  return Object.keys(out).length > 0 ? out : undefined
}

/** A backend's state from its hash and what is in flight on it (unset fields: undefined). */
function backendState(
  raw: BackendHash,
  flight: { busy: number; busySince?: number },
  now: number,
  circuit: CircuitConfig,
): BackendState {
  const h = Array.isArray(raw) ? {} : raw
  const num = (v: string | undefined) => Number(v ?? 0) || undefined
  let state: CircuitState = h.circuit === 'open' ? 'open' : 'closed'
  if (state === 'open' && now - Number(h.openedAt ?? 0) >= circuit.cooldownMs) state = 'half-open'
  return {
    busy: flight.busy,
    model: h.model || undefined,
    circuit: state,
    failures: Number(h.failures ?? 0),
    openedAt: num(h.openedAt),
    downSince: num(h.downSince),
    renderMs: num(h.renderMs),
    loadMs: num(h.loadMs),
    busySince: flight.busySince || undefined,
    byModel: byModelOf(h),
  }
}

/** The scheduler's Redis state under `${prefix}:sched:`; `jobPrefix` is where BullMQ keeps render jobs. */
export function createSchedulerStore(redis: Redis, prefix: string, jobPrefix: string): SchedulerStore {
  const base = `${prefix}:sched:`
  const s = scripts(redis)
  const key = (suffix: string) => base + suffix

  return {
    base,

    async submit(item, now) {
      const { key: group, meta } = groupOf({ ...item, excluded: item.excluded ?? [] })
      const seq = await s.submit(
        base, item.renderId, item.tenant, item.workClass, item.priority, item.model, group, meta, item.home,
        JSON.stringify(item.excluded ?? []), item.at, item.readyAt ?? 0, now,
      )
      return Number(seq) > 0
    },

    async view(backendIds, now, circuit) {
      const raw = JSON.parse(String(await s.view(base, now, ...backendIds))) as {
        groups: { key: string; meta: string; count: number; seq: number; at: number }[] | Record<string, never>
        backends: Record<string, { hash: BackendHash; busy: number; busySince: number }> | []
        cursor: { interactive: string; bulk: string }
        seen: Record<string, number> | []
        served: Record<string, number> | []
        tenants: Record<string, number> | []
        turns: Record<string, number> | []
        inflight: Record<string, number> | []
        nextReadyAt?: number
      }
      // why: cjson encodes an empty Lua table as {}, whether it was a list or a map.
      const groups = Array.isArray(raw.groups) ? raw.groups : []
      const backends: Record<string, BackendState> = {}
      for (const [id, b] of Object.entries(Array.isArray(raw.backends) ? {} : raw.backends)) backends[id] = backendState(b.hash, b, now, circuit)
      return {
        groups: groups.map((g) => {
          const meta = JSON.parse(g.meta) as GroupMeta
          return { key: g.key, workClass: meta.workClass, tenant: meta.tenant, model: meta.model, needs: meta.needs, excluded: meta.excluded, count: g.count, oldestSeq: g.seq, oldestAt: g.at }
        }),
        backends,
        cursor: { interactive: raw.cursor.interactive || undefined, bulk: raw.cursor.bulk || undefined },
        interactiveSeen: Array.isArray(raw.seen) ? {} : raw.seen,
        lastServed: Array.isArray(raw.served) ? {} : raw.served,
        tenantServed: Array.isArray(raw.tenants) ? {} : raw.tenants,
        bulkTurn: Array.isArray(raw.turns) ? {} : raw.turns,
        inflight: Array.isArray(raw.inflight) ? {} : raw.inflight,
        nextReadyAt: raw.nextReadyAt,
      }
    },

    async pop(groupKey, backendId, now, model) {
      const r = (await s.pop(base, groupKey, backendId, now, model ?? '', `${jobPrefix}:`)) as [string, string, string, number, string, string] | null
      if (!r) return undefined
      const [renderId, priority, home, jobExists, nextSeq, nextAt] = r
      return { renderId, priority, home, jobExists: jobExists === 1, next: nextSeq ? { seq: Number(nextSeq), at: Number(nextAt) } : null }
    },

    async complete(renderId, backendId, now, outcome, circuit, retry) {
      let group = ''
      let meta = ''
      let excluded = '[]'
      if (retry) {
        const current = await this.item(renderId)
        if (current) {
          const g = groupOf({ ...current, excluded: retry.excluded })
          group = g.key
          meta = g.meta
          excluded = JSON.stringify(retry.excluded)
        }
      }
      const result = await s.complete(
        base, renderId, backendId, now, outcome, circuit.threshold, retry && group ? '1' : '0', retry?.readyAt ?? 0, group, meta, excluded, TIMING_WEIGHT,
      )
      return result as 'done' | 'resubmitted' | 'gone'
    },

    async requeue(renderId, backendId, now, readyAt) {
      return Number(await s.requeue(base, renderId, backendId, now, readyAt)) === 1
    },

    async cancel(renderId) {
      return (await s.cancel(base, renderId)) as 'dropped' | 'inflight' | 'unknown'
    },

    async item(renderId) {
      const h = await redis.hgetall(key(`item:${renderId}`))
      if (!h.state) return undefined
      const meta = JSON.parse(h.meta) as GroupMeta
      return {
        renderId,
        tenant: h.tenant,
        workClass: h.cls as WorkClass,
        priority: h.prio,
        model: h.model,
        needs: meta.needs,
        home: h.home,
        excluded: JSON.parse(h.excluded || '[]') as string[],
        seq: Number(h.seq),
        at: Number(h.at),
        attempt: Number(h.attempt || 0),
        state: h.state as StoredItem['state'],
        backend: h.backend || undefined,
        dispatchedAt: h.dispatchedAt ? Number(h.dispatchedAt) : undefined,
      }
    },

    async known(renderIds) {
      if (renderIds.length === 0) return new Set()
      const pipeline = redis.pipeline()
      for (const id of renderIds) pipeline.exists(key(`item:${id}`))
      const results = (await pipeline.exec()) ?? []
      return new Set(renderIds.filter((_, i) => results[i]?.[1] === 1))
    },

    async inflight() {
      const backends = await redis.smembers(key('backends'))
      const out: { backend: string; renderId: string; dispatchedAt: number }[] = []
      for (const backend of backends) {
        const entries = await redis.zrange(key(`inflight:${backend}`), 0, -1, 'WITHSCORES')
        for (let i = 0; i < entries.length; i += 2) out.push({ backend, renderId: entries[i], dispatchedAt: Number(entries[i + 1]) })
      }
      return out
    },

    async recordHealth(backendId, ok, now, circuit) {
      await s.health(base, backendId, ok ? '1' : '0', now, circuit.threshold, circuit.cooldownMs)
    },

    async backendStates(backendIds, now, circuit) {
      const pipeline = redis.pipeline()
      for (const id of backendIds) pipeline.hgetall(key(`b:${id}`))
      const results = (await pipeline.exec()) ?? []
      const out: Record<string, BackendState> = {}
      backendIds.forEach((id, i) => {
        out[id] = backendState((results[i]?.[1] ?? {}) as Record<string, string>, { busy: 0 }, now, circuit)
      })
      return out
    },

    async expire(groupKey, cutoff) {
      const flat = (await s.expire(base, groupKey, cutoff)) as string[]
      const out: { renderId: string; home: string }[] = []
      for (let i = 0; i < flat.length; i += 2) out.push({ renderId: flat[i], home: flat[i + 1] })
      return out
    },

    async positionOf(renderId) {
      const [state, cls, tenant] = await redis.hmget(key(`item:${renderId}`), 'state', 'cls', 'tenant')
      if (!state || !cls || !tenant) return undefined
      if (state === 'inflight') return { state, position: 1 }
      const [rank, counts, cursor, interactive] = await Promise.all([
        redis.zrank(key(`t:${cls}:${tenant}`), renderId),
        redis.hgetall(key(`tenants:${cls}`)),
        redis.get(key(`rr:${cls}`)),
        cls === 'bulk' ? redis.hvals(key('tenants:interactive')) : Promise.resolve([] as string[]),
      ])
      // A delayed retry counts as the last of its tenant's waiting work.
      const mine = rank ?? Number(counts[tenant] ?? 0)
      // Round robin: before this tenant's (mine+1)-th render, every other tenant
      // gets as many turns, one more if its turn comes first after the cursor.
      const lap = (t: string) => (cursor !== null && t <= cursor ? 1 : 0)
      const before = (t: string) => lap(t) < lap(tenant) || (lap(t) === lap(tenant) && t < tenant)
      let ahead = mine
      for (const t of Object.keys(counts)) if (t !== tenant) ahead += Math.min(Number(counts[t]), mine + (before(t) ? 1 : 0))
      for (const n of interactive) ahead += Number(n)
      return { state: state as StoredItem['state'], position: ahead + 1 }
    },

    async lock(token, ttlMs) {
      return (await s.lock(key('lock'), key('again'), token, ttlMs)) === 1
    },

    async unlock(token, ttlMs) {
      return (await s.unlock(key('lock'), key('again'), token, ttlMs)) as 'again' | 'released' | 'lost'
    },

    async extendLock(token, ttlMs) {
      return (await s.extend(key('lock'), token, ttlMs)) === 1
    },
  }
}
