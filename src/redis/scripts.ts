import { createHash } from 'node:crypto';
import { LIBRARY } from './lua.js';
import type { ChannelState } from './types.js';

/**
 * The Lua scripts of the Redis log. Each runs atomically on the node that owns the channel's
 * slot (all its keys carry the channel as hash tag: see `keys.ts`); `run.ts` sends them.
 *
 * Why scripts: an append must check its id, create the generation, add the entry, trim,
 * remember what it trimmed and publish the wake-up as one step, or a reader could see one
 * without the other. Why the log records trimmed ids itself: Redis 7's `max-deleted-entry-id`
 * only follows XDEL; XTRIM and `XADD MAXLEN` leave it at 0-0 (checked on 7.0), so a reader
 * behind trimmed history could not be told apart from one that read everything.
 */

export interface Script {
  readonly source: string;
  readonly sha: string;
}

/**
 * Append one event, once per append id, only in a history the append was built for.
 * KEYS[1] stream, KEYS[2] meta, KEYS[3] and KEYS[4] the two halves of the recent append ids.
 * ARGV[1] generation to start if the stream is new, ARGV[2] event JSON, ARGV[3] wake channel,
 * ARGV[4] maxLen, ARGV[5] slackLen, ARGV[6] maxAgeMs, ARGV[7] slackMs, ARGV[8] append id,
 * ARGV[9] idempotency window (ms), ARGV[10] '1' to count the replicas that are online,
 * ARGV[11] the replication ids of the histories the log believed current when it built the
 * command, space-separated (see histories.ts).
 * Returns { status, generation, id, replicas, replid, previous }: status 'stored'; 'duplicate' when the id
 * was seen within the window (nothing appended; generation and id are those of the first append);
 * 'refused' when it was not, and this node's history (replid) is none of ARGV[11] (nothing
 * stored, generation and id empty). A stored append also returns `previous`: the id of the
 * stream's newest entry before it ('' when there was none): GRIP's prev-id (src/grip/).
 *
 * Why refuse: a command sent again after its reply was lost (by ioredis after a reconnection, by a
 * Cluster client or the log after a closed connection) may have run already, in a history that is
 * gone with the record of its id (a restart without persistence, a failover to a replica that
 * never received it). Storing it in the new history would deliver it twice to readers who had it
 * from the lost one. Redis draws a new replication id for every history that may have lost writes,
 * after the command was built, so a first run and a run after a loss tell themselves apart; a
 * record of the id, when this history has it, wins over the check (the event is here).
 *
 * The ids live in two hashes that take turns per window (bucket = Redis time / window): an id
 * is looked up in both, so it is recognised for at least one window and at most two, and each
 * hash expires two windows after its last write, so memory is bounded by the append rate.
 * Redis 7.0 has no per-field expiry; a sorted set would need a second key for the stream ids.
 * A duplicate writes too (it copies its record into the current hash): the WAIT the log sends
 * after the script then covers the first append, whichever connection made it.
 */
export const APPEND = script(`${LIBRARY}
local stream, meta = KEYS[1], KEYS[2]
local appendId, windowMs = ARGV[8], tonumber(ARGV[9])
local replication = redis.call('INFO', 'replication')
local replicas = 0
if ARGV[10] == '1' then
  -- Only replicas that are online acknowledge a WAIT; one doing a full sync would not.
  for _ in string.gmatch(replication, 'slave%d+:[^\\r\\n]*state=online') do replicas = replicas + 1 end
end
-- The replication history this node writes (a restart or a promotion starts a new one).
local replid = string.match(replication, 'master_replid:(%w+)')
local bucket = math.floor(nowMs() / windowMs)
local label = string.format('%.0f', bucket)
local current, previous = KEYS[3 + bucket % 2], KEYS[4 - bucket % 2]
-- One HMGET: whether the current half is this window's, and whether it has the id.
local currentLabel, seen = unpack(redis.call('HMGET', current, ':bucket', appendId))
seen = seen or redis.call('HGET', previous, appendId)
local function remember(record)
  if currentLabel ~= label then
    -- Two windows old: nothing in it is still needed. It expires two windows after this
    -- window began at the latest, when it is this window's again and replaced anyway.
    redis.call('DEL', current)
    redis.call('HSET', current, ':bucket', label, appendId, record)
    redis.call('PEXPIRE', current, 2 * windowMs)
  else
    redis.call('HSET', current, appendId, record)
  end
end
if seen then
  remember(seen)
  local gen, id = string.match(seen, '^(%S+) (%S+)$')
  return { 'duplicate', gen, id, replicas, replid }
end
if not string.find(' ' .. ARGV[11] .. ' ', ' ' .. replid .. ' ', 1, true) then
  return { 'refused', '', '', replicas, replid }
end
local gen, empty, lastReplid = unpack(redis.call('HMGET', meta, 'gen', 'empty', 'replid'))
-- The newest entry before this append ('' when the stream is empty or missing).
local newest = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
if not newest and not empty and redis.call('EXISTS', stream) == 0 then
  -- No stream, and no generation a reader stamped while waiting for the first event: the
  -- history was lost (or there never was one). A new generation, so positions of an earlier
  -- life of this channel read as a gap, never as the new data.
  redis.call('DEL', meta)
  gen, lastReplid = false, false
end
if not gen then
  gen = ARGV[1]
  redis.call('HSET', meta, 'gen', gen)
elseif empty then
  -- A generation a reader stamped before the first event is the channel's for good now.
  redis.call('HDEL', meta, 'empty')
  redis.call('PERSIST', meta)
end
-- When the history differs from the previous append's, entries may have been lost before this
-- append: remember the channel's newest id as the fork, where readers from the old history resume.
if lastReplid ~= replid then
  if lastReplid then redis.call('HSET', meta, 'fork', newest and newest[1] or '0-0') end
  redis.call('HSET', meta, 'replid', replid)
end
local id = redis.call('XADD', stream, '*', 'd', ARGV[2])
retain(stream, meta, tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]))
remember(gen .. ' ' .. id)
redis.call('PUBLISH', ARGV[3], gen .. ' ' .. id)
return { 'stored', gen, id, replicas, replid, newest and newest[1] or '' }
`);

/**
 * Read events after a position (and apply retention, as the memory log does on read).
 * KEYS[1] stream, KEYS[2] meta.
 * ARGV[1] generation to stamp or start if the channel has none, ARGV[2] the id to read after
 * ('' for START, the position of no generation), ARGV[3] the generation of that id,
 * ARGV[4] limit, ARGV[5] maxBytes, ARGV[6] maxLen, ARGV[7] slackLen, ARGV[8] maxAgeMs,
 * ARGV[9] slackMs, ARGV[10] the expiry of a stamp (ms).
 * Returns { generation, lastId, cutId, entriesAdded, length, more, resume, id1, json1, ... }.
 * Entries are only read when the generations match (a mismatch is a gap the caller reports),
 * never after START. A channel without a stream answers with its stamped generation (see
 * `stamped`), as an empty stream at 0-0.
 * `resume` is '' unless the position names no entry although it is not behind retention: it is
 * ahead of the stream, or between two entries. Then its entry was lost (a failover promoted a
 * replica without it) or the position is forged, no entry is read, and `resume` is where the
 * reader continues without receiving twice what it had: the newest entry before the position,
 * but never past the fork (see APPEND), as entries after it are new to every older history.
 */
export const READ = script(`${LIBRARY}
local stream, meta = KEYS[1], KEYS[2]
local after, limit, maxBytes = ARGV[2], tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('EXISTS', stream) == 0 then
  local gen = stamped(meta, ARGV[1], tonumber(ARGV[10]))
  local reply = { gen, '0-0', '0-0', '0', '0', '0', '' }
  -- Ahead of a channel that has no event: forged. Its head is the start.
  if after ~= '' and ARGV[3] == gen and after ~= '0-0' then reply[7] = '0-0' end
  return reply
end
local gen = generation(meta, ARGV[1])
retain(stream, meta, tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]))
local last, cut, added, length = streamState(stream, meta)
local reply = { gen, last, cut, tostring(added), tostring(length), '0', '' }
if after == '' or ARGV[3] ~= gen then return reply end
local function resumeBefore(position)
  local fork = redis.call('HGET', meta, 'fork')
  local bound = '(' .. position
  if fork and cmpId(fork, position) < 0 then bound = fork end
  local before = redis.call('XREVRANGE', stream, bound, '-', 'COUNT', 1)[1]
  if before and cmpId(before[1], cut) > 0 then return before[1] end
  return cut
end
if cmpId(after, last) > 0 then
  reply[7] = resumeBefore(after)
  return reply
end
-- From the position itself (inclusive): whether it still names an entry costs no extra call,
-- and one entry past the limit says whether more follow.
local entries = redis.call('XRANGE', stream, after, '+', 'COUNT', limit + 2)
local first = 1
if entries[1] and entries[1][1] == after then
  first = 2
elseif cmpId(after, cut) > 0 then
  reply[7] = resumeBefore(after)
  return reply
end
local bytes, taken = 0, 0
for i = first, #entries do
  local entry = entries[i]
  if taken == limit then
    reply[6] = '1'
    break
  end
  local data = ''
  for f = 1, #entry[2], 2 do
    if entry[2][f] == 'd' then data = entry[2][f + 1] end
  end
  bytes = bytes + #data
  if taken > 0 and bytes > maxBytes then
    reply[6] = '1'
    break
  end
  reply[#reply + 1] = entry[1]
  reply[#reply + 1] = data
  taken = taken + 1
end
return reply
`);

/**
 * Where a new reader starts (`start()`), tied to the channel's generation: a channel without
 * events gets a stamped one (see `stamped`). Applies retention first, as a read does.
 * KEYS[1] stream, KEYS[2] meta. ARGV[1] generation to stamp or start, ARGV[2] 'now', 'oldest'
 * or 'last', ARGV[3] n for 'last', ARGV[4] the expiry of a stamp (ms), ARGV[5] maxLen,
 * ARGV[6] slackLen, ARGV[7] maxAgeMs, ARGV[8] slackMs.
 * Returns { generation, lastId, startId }: the reader starts after startId. 'now': the newest
 * id; 'oldest': the newest removed id (0-0 when none), before the oldest retained entry;
 * 'last': before the n newest entries (one bounded XREVRANGE), or 'oldest' when fewer remain.
 */
export const START_AT = script(`${LIBRARY}
local stream, meta = KEYS[1], KEYS[2]
if redis.call('EXISTS', stream) == 0 then
  local gen = stamped(meta, ARGV[1], tonumber(ARGV[4]))
  return { gen, '0-0', '0-0' }
end
local gen = generation(meta, ARGV[1])
retain(stream, meta, tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]))
local last, cut = streamState(stream, meta)
local at = last
if ARGV[2] == 'oldest' then
  at = cut
elseif ARGV[2] == 'last' then
  local n = tonumber(ARGV[3])
  local newest = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', n + 1)
  at = cut
  -- The entry before the n newest; never behind what was removed (an XDEL among them).
  if #newest > n and cmpId(newest[n + 1][1], cut) > 0 then at = newest[n + 1][1] end
end
return { gen, last, at }
`);

/**
 * Where a channel stands, to check a channel a waiter starts watching (no writes but the ones
 * `generation` makes, and a stamp's expiry pushed back while it is waited on).
 * KEYS[1] stream, KEYS[2] meta. ARGV[1] generation to start if the stream has none,
 * ARGV[2] the expiry of a stamp (ms).
 * Returns {} when the channel has no history (no stream, and no stamp), otherwise
 * { generation, lastId } (0-0 for a stamp).
 */
export const STATE = script(`${LIBRARY}
local stream, meta = KEYS[1], KEYS[2]
if redis.call('EXISTS', stream) == 0 then
  local gen, empty = unpack(redis.call('HMGET', meta, 'gen', 'empty'))
  if not (gen and empty) then return {} end
  local ttl = tonumber(ARGV[2])
  if redis.call('PTTL', meta) < ttl / 2 then redis.call('PEXPIRE', meta, ttl) end
  return { gen, '0-0' }
end
local gen = generation(meta, ARGV[1])
local last = streamState(stream, meta)
return { gen, last }
`);

/** The reply of {@link STATE} as a channel state. */
export function toState(reply: unknown): ChannelState {
  const values = reply as unknown[];
  return values.length === 0 ? { exists: false } : { exists: true, generation: String(values[0]), last: String(values[1]) };
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}
