/**
 * The Lua scripts that keep one host's fleet state in one Redis hash. Each runs atomically
 * on the server, reads the clock there (`TIME`, so processes with skewed clocks agree),
 * stores and arbitrates, and never decides: how much to cut or recover comes in as an
 * argument from the local controller.
 *
 * The hash (key `<keyPrefix><host>`), every value a decimal string:
 *
 * | field   | meaning                                                                  |
 * |---------|--------------------------------------------------------------------------|
 * | `rate`  | pacing rate, requests/s; absent: the fleet is not pacing                 |
 * | `tat`   | GCRA's theoretical arrival time: the next free send slot, ms (Redis time) |
 * | `limit` | concurrency limit (per process) learned; absent: none yet                |
 * | `event` | id of the last congestion event; absent: 0                               |
 * | `event_at` | when that event opened, ms (Redis time)                               |
 * | `pause` | end of the cool-down after a Retry-After, ms (Redis time); absent: none  |
 * | `sent`  | dispatches reported, a count decaying with a time constant of one second |
 * | `ok`    | successes reported, decaying with `sent`                                 |
 * | `sent_at` | when `sent` was last updated, ms (Redis time)                         |
 * | `sent_since` | start of the current spell of reservations (a gap > 1 s restarts it) |
 *
 * Every script that writes sets the key's TTL again (`PEXPIRE`), so the state of a host
 * nobody talks to any more disappears by itself. Every script answers the state after it
 * ran, `[now, rate, limit, event, pause, sendRate, admittedRate, ...]` (empty string:
 * absent), then its own fields. `sendRate` is the fleet's send rate (dispatches per
 * second, from `sent`, as the processes report them with their reservations and
 * congestion reports; slots reserved are not all used): what a congestion event's cut
 * starts from when the fleet was not pacing yet. `admittedRate` is the same for
 * successes (`ok`): the knee a pacing fleet is cut to lies just under it.
 */
import { createHash } from 'node:crypto';
import { RESERVE_WINDOW_MS } from './coordinator.js';

/** A script and its SHA-1 (what `EVALSHA` names it by). */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, body: string): LuaScript {
  const source = `${PRELUDE}\n${body}`;
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Shared head: clock, current state, formatting, the state reply, the recovery merge. */
const PRELUDE = `
local RESERVE_WINDOW_MS = ${RESERVE_WINDOW_MS}
if redis.replicate_commands then pcall(redis.replicate_commands) end
local key = KEYS[1]
local ttl = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local f = redis.call('HMGET', key, 'rate', 'tat', 'limit', 'event', 'pause', 'sent', 'sent_at', 'sent_since', 'ok', 'event_at')
local rate = tonumber(f[1])
local tat = tonumber(f[2]) or 0
local limit = tonumber(f[3])
local event = tonumber(f[4]) or 0
local pause = tonumber(f[5]) or 0
-- The decayed counts of dispatches and successes reported, as of now (time constant 1 s),
-- and since when the current spell of activity lasts (a gap of over a second starts a new
-- one): at a steady pace a count over the part of the window the spell covers is per second.
local sent = tonumber(f[6]) or 0
local sent_at = tonumber(f[7]) or now
local sent_since = tonumber(f[8]) or now
local ok = tonumber(f[9]) or 0
local event_at = tonumber(f[10])
if now - sent_at > 1000 then
  sent = 0
  ok = 0
  sent_since = now
elseif now > sent_at then
  local decay = math.exp((sent_at - now) / 1000)
  sent = sent * decay
  ok = ok * decay
end
local function covered()
  return 1 - math.exp(-math.max(now - sent_since, 100) / 1000)
end
-- Half of the counts this call added: a process reports its sends in a lump every few
-- hundred ms, so read right after its own lump the count runs high by about half of it
-- (a lump of 16 at 60/s read as 68/s). Other processes' lumps average out.
local lump_sent = 0
local lump_ok = 0
local function send_rate() return math.max(0, sent - lump_sent) / covered() end
local function admitted_rate() return math.max(0, ok - lump_ok) / covered() end
local function num(x)
  if x == nil then return '' end
  return string.format('%.3f', x)
end
local function int(x) return string.format('%d', x) end
local function state(a, b, c)
  local r = {num(now), num(rate), num(limit), int(event), num(pause), num(send_rate()), num(admitted_rate())}
  if a ~= nil then r[8] = a end
  if b ~= nil then r[9] = b end
  if c ~= nil then r[10] = c end
  return r
end
-- Dispatches and successes a process reports (ARGV strings, '' when none): both counts
-- decay together.
local function tally(sent_arg, ok_arg)
  local n = tonumber(sent_arg) or 0
  local a = tonumber(ok_arg) or 0
  if n <= 0 and a <= 0 then return end
  sent = sent + math.max(n, 0)
  ok = ok + math.max(a, 0)
  lump_sent = math.max(n, 0) / 2
  lump_ok = math.max(a, 0) / 2
  redis.call('HSET', key, 'sent', num(sent), 'ok', num(ok), 'sent_at', num(now), 'sent_since', num(sent_since))
end
-- Slots a process hands back unused (ARGV string, '' when none): the schedule they held
-- is free again, at the current rate (never before now).
local function give_back(returned_arg)
  local returned = tonumber(returned_arg)
  if returned ~= nil and returned > 0 and rate ~= nil and tat > now then
    tat = math.max(now, tat - returned * 1000 / rate)
    redis.call('HSET', key, 'tat', num(tat))
  end
end
local function set_rate(arg)
  if arg == 'inf' then
    rate = nil
    redis.call('HDEL', key, 'rate')
  else
    rate = tonumber(arg)
    redis.call('HSET', key, 'rate', num(rate))
  end
end
-- A recovery step: dropped when made before the current event; else the highest wins.
local function merge_recovery(seen_arg, rate_arg, limit_arg)
  if seen_arg == '' then return end
  local seen = tonumber(seen_arg)
  if seen < event then return end
  if seen > event then
    -- The state expired while the reporter ran on: keep ids increasing.
    event = seen
    redis.call('HSET', key, 'event', int(event))
  end
  if rate_arg == 'inf' then
    if rate ~= nil then set_rate('inf') end
  elseif rate_arg ~= '' and rate ~= nil and tonumber(rate_arg) > rate then
    set_rate(rate_arg)
  end
  if limit_arg ~= '' and (limit == nil or tonumber(limit_arg) > limit) then
    limit = tonumber(limit_arg)
    redis.call('HSET', key, 'limit', int(limit))
  end
end
`;

/** ARGV: ttl. Reads the state; writes nothing. */
export const JOIN = script('join', 'return state()');

/**
 * ARGV: ttl, count, then a recovery step (eventSeen, rate, limit; empty strings when none),
 * then the dispatches and successes since the caller's last report ('' : count sends,
 * none admitted). Answers the state, the first slot (ms, Redis time), the interval
 * between slots (ms; 0 when not pacing) and the number of slots granted: all asked for,
 * except that while pacing no slot lies more than {@link RESERVE_WINDOW_MS} past the
 * first. Slots start at the latest of now, the cool-down's end, and `tat`.
 */
export const RESERVE = script(
  'reserve',
  `
merge_recovery(ARGV[3], ARGV[4], ARGV[5])
local count = tonumber(ARGV[2])
local first = math.max(now, pause)
local interval = 0
if rate ~= nil then
  interval = 1000 / rate
  first = math.max(first, tat)
  -- No slot more than a window past the first free one: a batch reserved at one rate must
  -- not hold the schedule long after the rate changed (at least one slot is granted).
  local fit = math.floor(RESERVE_WINDOW_MS / interval) + 1
  if count > fit then count = fit end
  redis.call('HSET', key, 'tat', num(first + count * interval))
end
if ARGV[6] == nil or ARGV[6] == '' then
  tally(tostring(count), ARGV[7])
else
  tally(ARGV[6], ARGV[7])
end
redis.call('HSET', key, 'sent', num(sent), 'ok', num(ok), 'sent_at', num(now), 'sent_since', num(sent_since))
redis.call('PEXPIRE', key, ttl)
return state(num(first), num(interval), int(count))
`,
);

/**
 * ARGV: ttl, a recovery step (eventSeen, rate, limit; empty strings when none), the
 * dispatches and successes since the caller's last report, the slots it drops unused that
 * are still ahead (`tat` moves back by them at the current rate, never before now). The
 * last call of a process's state of a host. Answers the state.
 */
export const RELEASE = script(
  'release',
  `
merge_recovery(ARGV[2], ARGV[3], ARGV[4])
tally(ARGV[5], ARGV[6])
give_back(ARGV[7])
redis.call('PEXPIRE', key, ttl)
return state()
`,
);

/**
 * ARGV: ttl, eventSeen, rate ('' | 'inf' | req/s), limit ('' | n), retryAfterMs ('' | ms),
 * cut ('' | a factor in (0, 1): the new rate is that factor of the fleet's rate, or of its
 * send rate when it is not pacing; used when no rate is given), sent ('' | dispatches
 * since the caller's last report, counted into the send rate first), returned ('' | slots
 * the caller dropped unused, still ahead: `tat` moves back by them at the rate before),
 * admitted ('' | successes since the caller's last report), knee ('' | with cut, while
 * pacing and successes are counted: the new rate is this share of the admitted rate,
 * between deepest × and shallowest × the rate), deepest ('' : cut), settle ('' | ms after
 * an event opened during which a report under it opens no other), shallowest ('' : cut).
 * Compare-and-set on the event id: a report made under the current event (or a later one,
 * when the state expired meanwhile) opens the next event and sets rate and limit, unless
 * the current event opened less than `settle` ms ago; an older one changes neither. A Retry-After extends the cool-down either way, and leaves a rate
 * behind so the cool-down's end is spread over send slots instead of a stampede.
 * Answers the state and `1` (opened a new event) or `0`.
 */
export const CONGESTION = script(
  'congestion',
  `
local seen = tonumber(ARGV[2])
local accepted = 0
tally(ARGV[7], ARGV[9])
give_back(ARGV[8])
local settle = tonumber(ARGV[12])
local settling = seen == event and event_at ~= nil and settle ~= nil and now - event_at < settle
if seen >= event and not settling then
  accepted = 1
  event = seen + 1
  redis.call('HSET', key, 'event', int(event), 'event_at', num(now))
  local cut = tonumber(ARGV[6])
  local knee = tonumber(ARGV[10])
  if ARGV[3] ~= '' then
    set_rate(ARGV[3])
  elseif cut ~= nil and knee ~= nil and rate ~= nil then
    -- Pacing: down to the knee, just under what the server admitted lately.
    local admitted = admitted_rate()
    local to = cut * rate
    if admitted > 0 then
      local deepest = tonumber(ARGV[11]) or cut
      local shallowest = tonumber(ARGV[13]) or cut
      to = math.min(shallowest * rate, math.max(deepest * rate, knee * admitted))
    end
    set_rate(num(to))
  elseif cut ~= nil then
    -- The rate this event happened at, cut by the factor.
    local from = rate or send_rate()
    if from > 0 then set_rate(num(cut * from)) end
  end
  if ARGV[4] ~= '' then
    limit = tonumber(ARGV[4])
    redis.call('HSET', key, 'limit', int(limit))
  end
end
local pause_ms = tonumber(ARGV[5])
if pause_ms ~= nil and pause_ms > 0 then
  if now + pause_ms > pause then
    pause = now + pause_ms
    redis.call('HSET', key, 'pause', num(pause))
  end
  if rate == nil and ARGV[3] ~= '' and ARGV[3] ~= 'inf' then set_rate(ARGV[3]) end
end
redis.call('PEXPIRE', key, ttl)
return state(int(accepted))
`,
);
