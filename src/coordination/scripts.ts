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
 * | `tat`   | GCRA's theoretical arrival time: the next free send slot, ms (Redis time); back to the time at an event someone listens to (below) |
 * | `limit` | concurrency limit (per process) learned; absent: none yet                |
 * | `event` | id of the last congestion event; absent: 0                               |
 * | `event_at` | when that event opened, ms (Redis time)                               |
 * | `clean_at` | where the schedule stood when that event opened (`tat` before the slots its report handed back, or the time) |
 * | `pause` | end of the cool-down after a Retry-After, ms (Redis time); absent: none  |
 * | `sent`  | dispatches reported, a count decaying with a time constant of one second |
 * | `ok`    | successes reported, decaying with `sent`                                 |
 * | `sent_at` | when `sent` was last updated, ms (Redis time)                         |
 * | `sent_since` | start of the current spell of reservations (a gap > 1 s restarts it) |
 * | `thr`   | throttles reported, decaying with `sent` (the share before a cut)        |
 * | `trial` | the event whose cut is on trial; absent: none                            |
 * | `trial_from`, `trial_before`, `trial_factor` | the rate before that cut, the share of throttles before it, the cut (new rate ÷ the load it acted on: the old rate, or the fleet's send rate when that was lower) |
 * | `trial_n`, `trial_t` | dispatches made under the trial's event, and throttles among them |
 * | `trial_limit` | the concurrency limit before the cut on trial                   |
 * | `trial_edge` | `1` when that cut was held at its shallowest (its trial finds no noise); absent: not |
 * | `trial_first_n`, `trial_first_t` | the dispatches and throttles of the trial's first stage, when it went on at a second; absent: at its first |
 * | `noise` | the share of throttles found to arrive whatever the load; absent: 0     |
 * | `knee`  | just under what the server admitted the fleet when the current event opened, req/s, raised over its first {@link KNEE_REFINE_MS} ms; absent: none |
 * | `knee_f` | the knee's share of the admitted rate ÷ (1 - `noise`): the reporter's `knee` (times 1 - `noise` at an event far over the floor: {@link FLOOR_REFUTED}) |
 * | `cut_hi` | when the current event's cut went to the knee early in a spell ({@link RATE_FOLLOWS_KNEE_MS}): the shallowest that cut could be, req/s; the rate rises with the knee's refinement up to it; absent: it does not |
 * | `holes` | send slots handed back from among other processes' (not the schedule's last), ms (Redis time), ascending, comma-separated: the next reservations take them first; cleared at each event; absent: none |
 *
 * Each event a report opens is published on the channel `<key>|events` (the id as the
 * message: {@link eventChannel}, `Coordinator.watch`).
 *
 * Every script that writes sets the key's TTL again (`PEXPIRE`), so the state of a host
 * nobody talks to any more disappears by itself. Every script answers the state after it
 * ran, `[now, rate, limit, event, pause, sendRate, admittedRate, trying, noise, knee,
 * eventAt, ...]` (empty string: absent; `trying` 1 or 0), then its own fields. `sendRate`
 * is the fleet's send rate (dispatches per second, from `sent`, as the processes report
 * them with their reservations and congestion reports; slots reserved are not all used):
 * what a congestion event's cut starts from when the fleet was not pacing yet. `admittedRate` is
 * the same for successes (`ok`): the knee a pacing fleet is cut to lies just under it.
 *
 * **Trials.** A cut of a pacing fleet reported with `tried`, made when 5 % or more of the
 * fleet's requests were refused lately, is put on trial, as the local controller tries its
 * own cuts (`throttle-evidence.ts`, same thresholds): the rate holds
 * (recovery steps are dropped) and throttles of dispatches made under the new event open
 * no other event unless their share is heavy (≥ 0.5, ≥ 2), while the processes report
 * those dispatches and throttles (tagged with the event their send slot was granted under,
 * not counting slots granted before `clean_at`: slots handed back at the cut move the new
 * schedule in among the old rate's, whose throttles fell on the cut's first dispatches, 1-3
 * of them, and 3 in 16 took the cut of a token bucket's overshoot for noise, once in some
 * 40 runs of 8 processes, and put the rate back 30 % over the limit). After 3 throttles in
 * 16 dispatches or more the share after the cut is compared with the share before it (`thr`
 * ÷ `sent` when the cut was made): if it fell by less than 30 % of what a load-dependent
 * limit predicts (and did not rise far above it), and the cut went under its shallowest,
 * the throttles may arrive whatever the load, and a second stage (below) tells: if they
 * do, the rate and limit before the cut come back and the share becomes the fleet's noise
 * floor (`noise`). The cut is weighed against the load
 * it acted on: the fleet's send rate when it was made, where that fell short of the rate (a
 * rate raised past what the fleet sent is no load). Weighed against the rate, a cut from
 * 68.9/s to 63.9/s where the fleet sent 65.5/s (0.93 of the rate, 0.98 of the load) left 8
 * processes over a bucket of 60/s, 3 in some 50 dispatches under it were refused against
 * 5.7 % before, and the trial found noise; the rate then doubled a second past what the
 * fleet sent (146/s where it sent 75/s), the next cut, to 0.49 of it, again left the load
 * where it was, and 117 requests were refused, 2 jobs failed. (A cut held at its
 * shallowest, 0.95, under a knee read at or above the rate, leaves the fleet about where it
 * was refused, and a limit's throttles go on there from the sends' jitter alone: cut from
 * 62/s to 59/s under a bucket of 60/s, 3 of 58 dispatches were refused against 5 % before,
 * the trial found noise and the rate doubled a second, to 110/s. Its trial still holds the
 * rate, and ends with the cut standing; so does a cut to 0.95 of the load or shallower.) A
 * share kept under the cut is no verdict yet: a cut to the knee can land at a drained token
 * bucket's rate too (a knee read high, 0.95 × an admitted rate the bucket's burst raised),
 * where the bucket refuses sends that jitter as often as before and more: cut from 74/s to
 * 59/s under a bucket of 60/s, 3 of the first 16 dispatches were refused against 8 %
 * before, the trial found noise with a floor of 15 %, the rate doubled to 148/s, and 148
 * requests were refused (2 runs in 25); cut to 59-60/s, 2-3 of 30-36 were refused against
 * 5.7-11.7 % before, and three runs in 20 learnt a floor and refused 62-107 (a run refuses
 * about 20). Such a trial goes on at a second stage, {@link CONFIRM_CUT} deeper under an
 * event of its own (`trial_first_n`, `trial_first_t`: the first stage's counts), where a
 * limit's refusals stop and random ones do not: a sequential test (Wald's) weighs its counts
 * as they come between the mean of the shares before the cut and at the first stage (random
 * throttles keep it) and {@link SECOND_STAGE_QUIET} (a limit's) until one is
 * {@link SECOND_STAGE_ODDS} as likely as the other (with 3 throttles at least for noise), or
 * 128 dispatches let the cut stand; the floor is the share over both stages. Far fewer
 * throttles than the share before draws (or 32 dispatches without a throttle, 128 with
 * some) end the trial: the cut stands, and a noise floor known goes when the share under
 * the cut lay far under it (its throttles did not arrive whatever the load); the knee of
 * an event that opens with the fleet's share of throttles lately {@link FLOOR_REFUTED} times
 * the floor or more is not read through the floor, so that its cut can show that. Under 5 %
 * the two cannot be told apart in a trial's few throttles: a token bucket's own refusals
 * at 90 % of its rate (sends jitter) drew 3 in 80 dispatches where 2 % were refused
 * before, and the trial took them for noise and put the rate back 30 % over the limit;
 * random throttles that rare cost little.
 */
import { createHash } from 'node:crypto';
import { RESERVE_WINDOW_MS } from './coordinator.js';

/**
 * For this long (ms) after an event opens, the knee takes the admitted rate the store reads
 * whenever it is higher: successes are counted a send or more after they came, so the
 * admitted rate read when an event opens lags what the server was admitting, most when the
 * fleet had just ramped up (41/s read against a bucket of 60/s, and recovery ran at full
 * pace past the limit).
 */
export const KNEE_REFINE_MS = 500;

/**
 * An event that opens this early (ms) in the fleet's spell of sends, whose cut went to the
 * knee, raises the rate with the knee's refinement (never past the cut's shallowest). The
 * counts read over a spell's first moments miss the successes not reported yet (each process
 * reports them with its next reservation, a few hundred ms late) as a share of all the spell
 * holds: a quarter or more at 0.8 s, 5 % at 2 s, 1-2 % past 3 s. 8 processes started together
 * under a bucket of 60/s were cut at their second event, 0.8 s in, to knees of 36-49/s refined
 * to 51-58/s within 200 ms, and the rate stayed at the cut, held by its trial and then by the
 * processes' recovery steps a reservation late, until a second later (20-25 requests fewer
 * sent than the bucket admitted: 3-4 % of the run). Later in a spell the knee read when an
 * event opens is as good as its refinements, the highest of several noisy reads: a rate that
 * rose with them there went to 63-67/s over that bucket, and three events followed in a
 * second. A trial of the cut weighs it as it was made: weighed as the shallower cut it became,
 * the first trials under random throttles (4 processes sending at their rate, 12 % refused)
 * were weighed at 0.94-0.95 of the load, at the shallowest, where a trial proves nothing,
 * and stood; cut again and again, one run opened 9 events where 3 found the noise.
 */
export const RATE_FOLLOWS_KNEE_MS = 3000;

/**
 * A trial's second stage cuts the fleet's rate by this factor more (see the header): a cut
 * that landed at a drained token bucket's rate, 0.99 of it, leaves it refusing sends that
 * jitter, 0.8 of it refills it at a fifth of its rate.
 */
export const CONFIRM_CUT = 0.8;

/**
 * The share of throttles a limit still draws under a trial's second stage (see the header):
 * the hypothesis its sequential test weighs random throttles against. The second stages
 * traced under a token bucket of 60/s drew none in 17, 27 and 29 dispatches, 1 in 42, and
 * (every kept share going on to one) none in 44-108 in 40 sampled runs of 8 cold processes.
 * Simulated over these scripts (`bench/coordination/trial-sim.ts`, 1000 trials a line): a
 * limit refusing 8 % at the cut's rate and 0-2 % under the deeper one was taken for noise
 * in 0-2.9 % of its trials (56-58 % when only a share that rose went on to a second stage);
 * random throttles of 12 % were found in 70.5 % (71.8 %), of 6 % in 44 % (55 %), a trial of
 * 12 % taking 49 dispatches on average where it took 29.
 */
export const SECOND_STAGE_QUIET = 0.01;

/**
 * The likelihood ratio (the hypothesis rejected ÷ the one adopted) at which a trial's second
 * stage decides (see {@link SECOND_STAGE_QUIET}).
 */
export const SECOND_STAGE_ODDS = 0.01;

/**
 * An event opened while a noise floor is known, whose share of throttles before it is this
 * many times the floor or more, reads its knee from what the server admitted, not through
 * the floor (÷ (1 - floor)): its cut lands under a limit the floor hid, and its trial tells
 * the two apart (a share under the cut far under the floor clears it; one about the floor
 * keeps it). Traced (8 processes' cold jobs under a bucket of 60/s): a floor of 16.7 %
 * learnt from 3 of 18 throttled dispatches under a cut that landed at the bucket's rate
 * raised every later knee by 1 ÷ (1 - 0.167), to 71-76/s; the events that followed came at
 * shares of 31-36 %, each cut landed over the bucket, whose refusals kept about the floor's
 * share, so no trial cleared it, and 154 requests were refused, 3 jobs failed. (Clearing the
 * floor at such an event was tried: where the floor was true, random throttles of 12 % on
 * top of a bucket, every event of the bucket's cleared it, the trials learnt it again, and
 * 8 processes took 20 % longer.)
 * Random throttles of 12 % reach 1.75 times their share 4.4 standard deviations out in a
 * fleet's count of 250 dispatches (4 processes sending 250/s), 2.8 in a count of 100 (an
 * event opens from 2.5 and one throttle over the floor's share).
 */
export const FLOOR_REFUTED = 1.75;

/** The channel a host's congestion events are published on (the id, as a message). */
export function eventChannel(key: string): string {
  return `${key}${EVENT_CHANNEL_SUFFIX}`;
}
const EVENT_CHANNEL_SUFFIX = '|events';

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
-- Most holes kept (see give_back): a few processes' last batches.
local MAX_HOLES = 32
local KNEE_REFINE_MS = ${KNEE_REFINE_MS}
local RATE_FOLLOWS_KNEE_MS = ${RATE_FOLLOWS_KNEE_MS}
-- The least share of throttles before a cut that puts it on trial (see the header).
local MIN_TRIAL_SHARE = 0.05
-- A trial's first stage that finds the share kept under the cut goes on at a second,
-- CONFIRM_CUT deeper, decided by a sequential test between the share kept and
-- SECOND_STAGE_QUIET at SECOND_STAGE_ODDS (see the header).
local CONFIRM_CUT = ${CONFIRM_CUT}
local SECOND_STAGE_QUIET = ${SECOND_STAGE_QUIET}
local SECOND_STAGE_ODDS = ${SECOND_STAGE_ODDS}
local FLOOR_REFUTED = ${FLOOR_REFUTED}
if redis.replicate_commands then pcall(redis.replicate_commands) end
local key = KEYS[1]
local ttl = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local f = redis.call('HMGET', key, 'rate', 'tat', 'limit', 'event', 'pause', 'sent', 'sent_at', 'sent_since', 'ok',
  'event_at', 'thr', 'trial', 'trial_from', 'trial_before', 'trial_factor', 'trial_n', 'trial_t', 'noise',
  'trial_limit', 'clean_at', 'knee', 'knee_f', 'trial_edge', 'trial_first_n', 'trial_first_t', 'cut_hi')
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
local thr = tonumber(f[11]) or 0
local trial = tonumber(f[12])
local trial_from = tonumber(f[13])
local trial_before = tonumber(f[14]) or 0
local trial_factor = tonumber(f[15]) or 1
local trial_n = tonumber(f[16]) or 0
local trial_t = tonumber(f[17]) or 0
local noise = tonumber(f[18]) or 0
local trial_limit = tonumber(f[19])
local clean_at = tonumber(f[20]) or 0
local knee = tonumber(f[21])
local knee_f = tonumber(f[22])
local trial_edge = f[23] == '1'
local trial_first_n = tonumber(f[24])
local trial_first_t = tonumber(f[25]) or 0
local cut_hi = tonumber(f[26])
-- Where the schedule granted before this call ends, before any slots it hands back (they
-- lay among the others'): where an event it opens starts anew.
local tat_start = tat
if now - sent_at > 1000 then
  sent = 0
  ok = 0
  thr = 0
  sent_since = now
elseif now > sent_at then
  local decay = math.exp((sent_at - now) / 1000)
  sent = sent * decay
  ok = ok * decay
  thr = thr * decay
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
local function state(...)
  local trying = '0'
  if trial ~= nil then trying = '1' end
  local r = {num(now), num(rate), num(limit), int(event), num(pause), num(send_rate()), num(admitted_rate()),
    trying, num(noise), num(knee), num(event_at)}
  for _, x in ipairs({...}) do r[#r + 1] = x end
  return r
end
-- What the server admits lately, without the throttles that arrive whatever the load.
local function admitted_clean() return admitted_rate() / (1 - noise) end
-- The current event's knee: set when it opens (the reporter's share of what the server
-- admitted), cleared when none applies.
local function set_knee(share)
  local admitted = admitted_clean()
  if share ~= nil and admitted > 0 then
    knee = share * admitted
    knee_f = share
    redis.call('HSET', key, 'knee', num(knee), 'knee_f', num(knee_f))
  else
    knee = nil
    knee_f = nil
    redis.call('HDEL', key, 'knee', 'knee_f')
  end
end
-- In the event's first moments the knee takes a higher admitted rate read (see KNEE_REFINE_MS),
-- and a rate an early event's cut set from the knee rises with it, up to \`cut_hi\` (the
-- shallowest cut of the rate before; see RATE_FOLLOWS_KNEE_MS). A trial of that cut still
-- weighs the cut as it was made.
local function refine_knee()
  if knee_f == nil or event_at == nil or now - event_at >= KNEE_REFINE_MS then return end
  local k = knee_f * admitted_clean()
  if knee == nil or k > knee then
    knee = k
    redis.call('HSET', key, 'knee', num(knee))
    if cut_hi ~= nil and rate ~= nil and rate < cut_hi and knee > rate then
      rate = math.min(cut_hi, knee)
      redis.call('HSET', key, 'rate', num(rate))
    end
  end
end
-- Dispatches, successes and throttles a process reports (ARGV strings, '' when none): the
-- counts decay together. Then the dispatches it made under an event and the throttles
-- among them: counted when that event's cut is on trial.
local function tally(sent_arg, ok_arg, thr_arg, under_arg, under_sent_arg, under_thr_arg)
  local n = tonumber(sent_arg) or 0
  local a = tonumber(ok_arg) or 0
  local r = tonumber(thr_arg) or 0
  if trial ~= nil and tonumber(under_arg) == trial then
    trial_n = trial_n + math.max(tonumber(under_sent_arg) or 0, 0)
    trial_t = trial_t + math.max(tonumber(under_thr_arg) or 0, 0)
    redis.call('HSET', key, 'trial_n', int(trial_n), 'trial_t', int(trial_t))
  end
  if n <= 0 and a <= 0 and r <= 0 then return end
  sent = sent + math.max(n, 0)
  ok = ok + math.max(a, 0)
  thr = thr + math.max(r, 0)
  lump_sent = math.max(n, 0) / 2
  lump_ok = math.max(a, 0) / 2
  redis.call('HSET', key, 'sent', num(sent), 'ok', num(ok), 'thr', num(thr), 'sent_at', num(now),
    'sent_since', num(sent_since))
end
local function end_trial()
  trial = nil
  trial_first_n = nil
  trial_first_t = 0
  redis.call('HDEL', key, 'trial', 'trial_from', 'trial_before', 'trial_factor', 'trial_n', 'trial_t', 'trial_limit',
    'trial_edge', 'trial_first_n', 'trial_first_t')
end
-- Opens event \`id\` now. \`schedule_end\`: where the schedule granted before it ends (its
-- slots before that lie among the old rate's: \`clean_at\`).
local function open_event(id, schedule_end)
  event = id
  clean_at = math.max(now, schedule_end)
  -- The processes listening on the host's channel (Coordinator.watch) drop the slots they
  -- hold at the old rate the moment this arrives, so the schedule starts again from now at
  -- the new one (not after the old rate's, up to half a second of it); slots granted in
  -- its first moments are still sent beside the old rate's last (messages and requests on
  -- their way), and a trial does not count them.
  if redis.call('PUBLISH', key .. '${EVENT_CHANNEL_SUFFIX}', int(event)) > 0 then
    clean_at = math.min(clean_at, now + RESERVE_WINDOW_MS)
    tat = now
    redis.call('HSET', key, 'tat', num(tat))
  end
  event_at = now
  redis.call('HSET', key, 'event', int(event), 'event_at', num(now), 'clean_at', num(clean_at))
  -- Holes lay at the old rate, among its slots.
  redis.call('HDEL', key, 'holes')
  -- Only a cut to the knee rises with it (see refine_knee): the report that opened this
  -- event says whether it made one.
  cut_hi = nil
  redis.call('HDEL', key, 'cut_hi')
end
-- The trial's first stage found the share kept under the cut (see the header): its counts
-- are kept, and the fleet goes CONFIRM_CUT deeper under an event of its own (the slots
-- granted at the first stage's rate are not the second's), where the trial starts counting
-- again.
local function confirm_trial()
  trial_first_n = trial_n
  trial_first_t = trial_t
  trial_n = 0
  trial_t = 0
  trial_factor = trial_factor * CONFIRM_CUT
  rate = rate * CONFIRM_CUT
  open_event(event + 1, tat_start)
  trial = event
  redis.call('HSET', key, 'rate', num(rate), 'trial', int(trial), 'trial_factor', num(trial_factor), 'trial_n', '0',
    'trial_t', '0', 'trial_first_n', int(trial_first_n), 'trial_first_t', int(trial_first_t))
end
local function poisson_at_most(k, mu)
  local term = math.exp(-mu)
  local sum = term
  for i = 1, k do
    term = term * mu / i
    sum = sum + term
  end
  return sum
end
-- The cut on trial stands. A share under it far under the noise floor known refutes the
-- floor (its throttles did not arrive whatever the load): it goes.
local function stand()
  if noise > 0 and poisson_at_most(trial_t, trial_n * noise) < 0.02 then
    noise = 0
    redis.call('HDEL', key, 'noise')
  end
  end_trial()
  return 'congestion'
end
-- The share of throttles is found to arrive whatever the load: the rate and limit before the
-- cut come back, and the share over both stages becomes the noise floor.
local function found_noise()
  if trial_from ~= nil and (rate == nil or trial_from > rate) then
    rate = trial_from
    redis.call('HSET', key, 'rate', num(rate))
  end
  if trial_limit ~= nil and (limit == nil or trial_limit > limit) then
    limit = trial_limit
    redis.call('HSET', key, 'limit', int(limit))
  end
  noise = (trial_first_t + trial_t) / ((trial_first_n or 0) + trial_n)
  redis.call('HSET', key, 'noise', num(noise))
  -- The admitted rate the throttles lowered was no limit's: no knee.
  set_knee(nil)
  end_trial()
  return 'noise'
end
-- The trial's second stage (see the header): a sequential test between the share the
-- throttles kept before the cut and at the first stage (their mean), as random throttles
-- keep it, and SECOND_STAGE_QUIET, what a limit still refuses under the deeper cut. Each
-- throttle weighs log(share / quiet) for noise, each dispatch answered log((1 - share) /
-- (1 - quiet)) against it; at SECOND_STAGE_ODDS either way (and 3 throttles for noise) it
-- decides, and the cut stands after 128 dispatches undecided.
local function judge_second()
  local share = (trial_before + trial_first_t / trial_first_n) / 2
  if share <= SECOND_STAGE_QUIET then return stand() end
  local weight = trial_t * math.log(share / SECOND_STAGE_QUIET)
    + (trial_n - trial_t) * math.log((1 - share) / (1 - SECOND_STAGE_QUIET))
  local bound = math.log(1 / SECOND_STAGE_ODDS)
  if trial_t >= 3 and weight >= bound then return found_noise() end
  if weight <= -bound or trial_n >= 128 then return stand() end
  return nil
end
-- The trial of the last cut (see the header), judged on the counts so far: answers
-- 'noise' (the cut is undone and the share becomes the noise floor), 'confirm' (the
-- share kept under the cut at the first stage: the second starts), 'congestion' (the cut
-- stands) or nil (not decided yet, or no trial).
local function judge()
  if trial == nil then return nil end
  if trial_first_n ~= nil then return judge_second() end
  if trial_t >= 3 and trial_n >= 16 then
    local after = trial_t / trial_n
    -- What a load-dependent limit would show after the cut (a limit of R at load r
    -- refuses 1 - R / r); a cut that could not get under one proves nothing.
    local if_limit = math.max(0, 1 - (1 - trial_before) / trial_factor)
    local most = trial_before + 3 * math.sqrt(trial_n * trial_before * (1 - trial_before)) / trial_n
    -- A cut held at its shallowest proves nothing (see the header): it stands.
    if not trial_edge and if_limit <= trial_before / 2
      and after >= if_limit + 0.7 * (trial_before - if_limit) and after <= most then
      -- A share kept under the cut is confirmed under a deeper one (see the header).
      if rate ~= nil then
        confirm_trial()
        return 'confirm'
      end
      return found_noise()
    end
    return stand()
  end
  -- A trial holds the fleet's rate: the cut stands after 32 dispatches without a throttle
  -- (the local controller waits for 64; held that long, a fleet under a token bucket spent
  -- a second and more at its knee after each event), 128 with some.
  local odds = 0.01
  local cap = 128
  if trial_t == 0 then
    odds = 0.05
    cap = 32
  end
  if (trial_n >= 8 and poisson_at_most(trial_t, trial_n * trial_before) < odds) or trial_n >= cap then
    return stand()
  end
  return nil
end
-- Slot times in a comma-separated list (Redis time), those in [lo, hi), in order.
local function times_in(list, lo, hi, into)
  local times = into or {}
  for x in string.gmatch(list or '', '[^,]+') do
    local v = tonumber(x)
    if v ~= nil and v >= lo and v < hi then times[#times + 1] = v end
  end
  table.sort(times)
  return times
end
-- The holes kept (at most MAX_HOLES, the earliest), or none.
local function store_holes(times)
  if #times == 0 then
    redis.call('HDEL', key, 'holes')
    return
  end
  local kept = {}
  for i = 1, math.min(#times, MAX_HOLES) do kept[i] = num(times[i]) end
  redis.call('HSET', key, 'holes', table.concat(kept, ','))
end
-- Send slots a process hands back unused (ARGV string, '' when none). With their times (a
-- comma-separated list, Redis time, of slots granted under \`times_event\`): those at the
-- schedule's end move it back; the others lay among slots other processes hold, and become
-- holes the next reservations take first (moving the schedule back over them double-booked
-- those slots: two processes sent within 2 ms, and over half of a cold fleet's refusals came
-- with such a pair). Without times, \`tat\` moves back by the count (a coordinator that does
-- not say where they lay).
local function give_back(returned_arg, times_arg, times_event)
  local returned = tonumber(returned_arg)
  if returned == nil or returned <= 0 or rate == nil or tat <= now then return end
  if times_arg == nil or times_arg == '' then
    tat = math.max(now, tat - returned * 1000 / rate)
    redis.call('HSET', key, 'tat', num(tat))
    return
  end
  -- Slots of an earlier event lay at its rate, among the old schedule's: not reused.
  if tonumber(times_event) ~= event then return end
  local times = times_in(times_arg, now, tat)
  local half = 500 / rate
  while #times > 0 and times[#times] >= tat - 1000 / rate - half do
    tat = math.max(now, math.min(tat - 1000 / rate, times[#times]))
    table.remove(times)
  end
  redis.call('HSET', key, 'tat', num(tat))
  if #times == 0 then return end
  store_holes(times_in(redis.call('HGET', key, 'holes'), now, tat, times))
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
  elseif rate_arg ~= '' and rate ~= nil and tonumber(rate_arg) > rate and trial == nil then
    -- While a cut is on trial the rate holds.
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
 * none admitted), the throttles since, and the trial's counts (event, dispatches under it,
 * throttles among them; '' when none). Answers the state, the first slot (ms, Redis time),
 * the interval between slots (ms; 0 when not pacing), the number of the schedule's slots
 * granted (all asked for less the holes granted, except that while pacing no slot lies more
 * than {@link RESERVE_WINDOW_MS} past the first) and how many of all the slots, the first
 * ones, lie before `clean_at` (among the slots granted before the current event, the holes
 * among them), then the holes granted (ms, Redis time, ascending; see `holes`). Holes come
 * first, as many as asked for; the schedule's slots, for the rest, start at the latest of
 * now, the cool-down's end, and `tat`.
 */
export const RESERVE = script(
  'reserve',
  `
merge_recovery(ARGV[3], ARGV[4], ARGV[5])
local count = tonumber(ARGV[2])
-- The counts first: a trial they decide may change the rate and event these slots are granted at.
local sent_arg = ARGV[6]
if sent_arg == nil or sent_arg == '' then sent_arg = tostring(count) end
tally(sent_arg, ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11])
refine_knee()
judge()
local first = math.max(now, pause)
local interval = 0
-- Holes first (slots handed back from among others': see give_back), then the schedule.
local holes = {}
if rate ~= nil then
  interval = 1000 / rate
  local raw = redis.call('HGET', key, 'holes')
  if raw then
    local free = times_in(raw, first, tat)
    local kept = {}
    for i, v in ipairs(free) do
      if i <= count then holes[i] = v else kept[#kept + 1] = v end
    end
    store_holes(kept)
  end
  count = count - #holes
  first = math.max(first, tat)
  -- No slot more than a window past the first free one: a batch reserved at one rate must
  -- not hold the schedule long after the rate changed (at least one slot is granted).
  local fit = math.floor(RESERVE_WINDOW_MS / interval) + 1
  if count > fit then count = fit end
  redis.call('HSET', key, 'tat', num(first + count * interval))
end
-- Slots granted before clean_at lie among those granted before the current event.
local early = 0
for _, h in ipairs(holes) do
  if h < clean_at then early = early + 1 end
end
if interval > 0 and clean_at > first and early == #holes then
  early = early + math.min(count, math.ceil((clean_at - first) / interval - 1e-9))
end
redis.call('HSET', key, 'sent', num(sent), 'ok', num(ok), 'thr', num(thr), 'sent_at', num(now),
  'sent_since', num(sent_since))
redis.call('PEXPIRE', key, ttl)
local reply = state(num(first), num(interval), int(count), int(early))
for _, h in ipairs(holes) do reply[#reply + 1] = num(h) end
return reply
`,
);

/**
 * ARGV: ttl, a recovery step (eventSeen, rate, limit; empty strings when none), the
 * dispatches and successes since the caller's last report, the slots it drops unused that
 * are still ahead, the throttles since and the trial's counts (as {@link RESERVE}), then
 * those slots' times ('' | comma-separated, ms, Redis time) and the event they were granted
 * under: the ones at the schedule's end move `tat` back, the others become `holes` (without
 * times `tat` moves back by the count, never before now). The last call of a process's
 * state of a host. Answers the state.
 */
export const RELEASE = script(
  'release',
  `
merge_recovery(ARGV[2], ARGV[3], ARGV[4])
tally(ARGV[5], ARGV[6], ARGV[8], ARGV[9], ARGV[10], ARGV[11])
refine_knee()
judge()
give_back(ARGV[7], ARGV[12], ARGV[13])
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
 * an event opened during which a report under it opens no other), shallowest ('' : cut),
 * then the throttles since the caller's last report and the trial's counts (as
 * {@link RESERVE}; this report's own throttle among them), and tried ('1': put the cut on
 * trial, when it is a pacing fleet's cut to the knee).
 * Compare-and-set on the event id: a report made under the current event (or a later one,
 * when the state expired meanwhile) opens the next event and sets rate and limit, unless
 * the current event opened less than `settle` ms ago, or its cut is on trial (unless the
 * share of throttles under it is heavy: the trial goes on at the deeper cut), or this
 * report's counts decided the trial for noise, or a noise floor is known and the fleet's
 * throttles lately are within what it explains (an event that opens with them
 * {@link FLOOR_REFUTED} times the floor or more reads its knee without the floor); an older
 * one changes neither. A
 * Retry-After extends the cool-down either way, and leaves a rate behind so the cool-down's
 * end is spread over send slots instead of a stampede.
 * A new event is published on the host's channel; when some process listens, the schedule
 * starts again from now (`tat`), since those processes drop the slots they hold.
 * Answers the state and `1` (opened a new event) or `0`.
 */
export const CONGESTION = script(
  'congestion',
  `
local seen = tonumber(ARGV[2])
local accepted = 0
tally(ARGV[7], ARGV[9], ARGV[14], ARGV[15], ARGV[16], ARGV[17])
refine_knee()
give_back(ARGV[8])
local verdict = judge()
local settle = tonumber(ARGV[12])
local settling = seen == event and event_at ~= nil and settle ~= nil and now - event_at < settle
-- A trial holds the rate: only a heavy share under its cut cuts again.
local heavy = trial ~= nil and trial_t >= 2 and trial_t >= 0.5 * trial_n
local holding = trial ~= nil and seen == trial and not heavy
-- With a noise floor known, throttles within what it explains (the fleet's decayed counts:
-- mean + 2.5 standard deviations + 1) are not congestion: a process may report one before
-- it has heard of the floor.
local within_floor = false
if noise > 0 then
  within_floor = thr <= sent * noise + 2.5 * math.sqrt(sent * noise * (1 - noise)) + 1
end
if seen >= event and not settling and not holding and not within_floor and verdict ~= 'noise' then
  accepted = 1
  -- Where the schedule granted before it ends (tat_start: the reporter's slots handed
  -- back lay among the others'): the new event's slots before it are sent beside the old
  -- rate's.
  open_event(seen + 1, tat_start)
  local cut = tonumber(ARGV[6])
  local knee_share = tonumber(ARGV[10])
  -- The fleet's share of throttles lately (this report's among them), once it counts enough
  -- dispatches to tell.
  local share_lately = nil
  if sent >= 8 then share_lately = thr / sent end
  -- The event's knee: just under what the server admitted lately (of what it would admit
  -- without the throttles that arrive whatever the load; with the fleet's share of
  -- throttles lately far over the noise floor, of what it admitted: see FLOOR_REFUTED).
  if knee_share ~= nil and noise > 0 and share_lately ~= nil and share_lately >= FLOOR_REFUTED * noise then
    knee_share = knee_share * (1 - noise)
  end
  set_knee(knee_share)
  if ARGV[3] ~= '' then
    set_rate(ARGV[3])
  elseif cut ~= nil and knee_share ~= nil and rate ~= nil then
    -- Pacing: down to the knee.
    local from = rate
    local to = cut * rate
    local shallowest = tonumber(ARGV[13]) or cut
    if knee ~= nil then
      local deepest = tonumber(ARGV[11]) or cut
      to = math.min(shallowest * rate, math.max(deepest * rate, knee))
      -- Early in a spell the knee read is low by the successes counted late: the rate rises
      -- with its refinement (see RATE_FOLLOWS_KNEE_MS).
      if now - sent_since < RATE_FOLLOWS_KNEE_MS then
        cut_hi = shallowest * rate
        redis.call('HSET', key, 'cut_hi', num(cut_hi))
      end
    end
    -- The load the cut acts on: the fleet's send rate lately where it fell short of the
    -- rate (a rate raised past what the fleet sent is no load; see the header).
    local load = rate
    local sending = send_rate()
    if sending > 0 and sending < load then load = sending end
    local factor = math.min(1, to / load)
    -- Held at its shallowest of the load (the knee read at or above the rate, or the load
    -- about the cut; a plain cut of a fleet sending at its rate is not): a trial of it finds
    -- no noise.
    local edge = factor >= shallowest and (knee ~= nil or load < rate)
    set_rate(num(to))
    -- The share of throttles before the cut.
    local before = nil
    if share_lately ~= nil then before = math.min(1, share_lately) end
    if trial ~= nil then
      -- A heavy share under a cut on trial: the trial goes on at the deeper cut.
      trial = event
      trial_factor = trial_factor * to / from
      trial_edge = trial_edge and edge
      trial_n = 0
      trial_t = 0
    elseif before ~= nil and before >= 0.5 then
      -- Far beyond what a noise floor explains: the trial that taught it misled.
      noise = 0
      redis.call('HDEL', key, 'noise')
    elseif ARGV[18] == '1' and before ~= nil and before >= MIN_TRIAL_SHARE then
      trial = event
      trial_from = from
      trial_limit = limit
      trial_before = before
      trial_factor = factor
      trial_edge = edge
      trial_n = 0
      trial_t = 0
    end
    if trial ~= nil then
      redis.call('HSET', key, 'trial', int(trial), 'trial_from', num(trial_from), 'trial_before',
        num(trial_before), 'trial_factor', num(trial_factor), 'trial_n', int(trial_n), 'trial_t', int(trial_t))
      if trial_limit ~= nil then redis.call('HSET', key, 'trial_limit', int(trial_limit)) end
      if trial_edge then redis.call('HSET', key, 'trial_edge', '1') else redis.call('HDEL', key, 'trial_edge') end
    end
  elseif cut ~= nil then
    -- The rate this event happened at, cut by the factor.
    local from = rate or send_rate()
    if from > 0 then set_rate(num(cut * from)) end
  end
  -- A trial judges its own event's cut only.
  if trial ~= nil and trial ~= event then end_trial() end
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
