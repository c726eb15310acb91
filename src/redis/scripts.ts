import { createHash } from 'node:crypto';
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

/** Lua helpers shared by the scripts. */
const LIBRARY = `
-- Stream ids are two unsigned 64-bit decimals; Lua numbers are doubles, so compare digits.
local function cmpNum(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end
local function cmpId(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  local c = cmpNum(am, bm)
  if c ~= 0 then return c end
  return cmpNum(as, bs)
end

-- The channel's generation, starting one (ARGV[1]) when the stream has none yet.
local function generation(meta, fresh)
  local gen = redis.call('HGET', meta, 'gen')
  if not gen then
    gen = fresh
    redis.call('HSET', meta, 'gen', gen)
  end
  return gen
end

-- Redis time in ms.
local function nowMs()
  local now = redis.call('TIME')
  return tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
end

-- Trim to the retention (0 = no limit) and record the newest id trimmed away, so readers
-- behind it get a gap. Slack lets a stream overshoot before one trim removes the excess.
local function retain(stream, meta, maxLen, slackLen, maxAgeMs, slackMs)
  local cut = false
  if maxAgeMs > 0 then
    local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
    if oldest then
      local cutoff = nowMs() - maxAgeMs
      local oldestMs = tonumber(string.match(oldest[1], '^(%d+)'))
      if cutoff > 0 and oldestMs < cutoff - slackMs then
        local minId = string.format('%.0f', cutoff) .. '-0'
        cut = redis.call('XREVRANGE', stream, '(' .. minId, '-', 'COUNT', 1)[1][1]
        redis.call('XTRIM', stream, 'MINID', '=', minId)
      end
    end
  end
  if maxLen > 0 then
    local length = redis.call('XLEN', stream)
    if length > maxLen + slackLen then
      local doomed = redis.call('XRANGE', stream, '-', '+', 'COUNT', length - maxLen)
      local last = doomed[#doomed][1]
      if not cut or cmpId(cut, last) < 0 then cut = last end
      redis.call('XTRIM', stream, 'MAXLEN', '=', maxLen)
    end
  end
  if cut then
    local old = redis.call('HGET', meta, 'trimmed')
    if not old or cmpId(old, cut) < 0 then redis.call('HSET', meta, 'trimmed', cut) end
  end
end

-- last-generated-id, and the newest id deleted by XDEL or trimmed by retention.
local function streamState(stream, meta)
  local info = redis.call('XINFO', 'STREAM', stream)
  local fields = {}
  for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
  local deleted = fields['max-deleted-entry-id']
  if not deleted then error('hangtime needs Redis 7.0 or newer (XINFO STREAM has no max-deleted-entry-id)') end
  local cut = redis.call('HGET', meta, 'trimmed') or '0-0'
  if cmpId(cut, deleted) < 0 then cut = deleted end
  return fields['last-generated-id'], cut, fields['entries-added'], fields['length']
end
`;

/**
 * Append one event, once per append id.
 * KEYS[1] stream, KEYS[2] meta, KEYS[3] and KEYS[4] the two halves of the recent append ids.
 * ARGV[1] generation to start if the stream is new, ARGV[2] event JSON, ARGV[3] wake channel,
 * ARGV[4] maxLen, ARGV[5] slackLen, ARGV[6] maxAgeMs, ARGV[7] slackMs, ARGV[8] append id,
 * ARGV[9] idempotency window (ms), ARGV[10] '1' to count the replicas that are online.
 * Returns { generation, id, replicas, duplicate }: `duplicate` is 1 when the id was seen within
 * the window (nothing appended; generation and id are those of the first append).
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
local bucket = math.floor(nowMs() / windowMs)
local current, previous = KEYS[3 + bucket % 2], KEYS[4 - bucket % 2]
local function remember(record)
  local label = string.format('%.0f', bucket)
  if redis.call('HGET', current, ':bucket') ~= label then
    -- Two windows old: nothing in it is still needed.
    redis.call('DEL', current)
    redis.call('HSET', current, ':bucket', label)
  end
  redis.call('HSET', current, appendId, record)
  redis.call('PEXPIRE', current, 2 * windowMs)
end
local seen = redis.call('HGET', current, appendId) or redis.call('HGET', previous, appendId)
if seen then
  remember(seen)
  local gen, id = string.match(seen, '^(%S+) (%S+)$')
  return { gen, id, replicas, 1 }
end
if redis.call('EXISTS', stream) == 0 then
  -- A stream that does not exist has lost its history (or never had one): a new generation,
  -- so positions of an earlier life of this channel read as a gap, never as the new data.
  redis.call('DEL', meta)
end
local gen = generation(meta, ARGV[1])
-- The replication history this node writes (a replica promoted by a failover starts a new one).
-- When it differs from the previous append's, entries may have been lost before this append:
-- remember the channel's newest id as the fork, where readers from the old history resume.
local replid = string.match(replication, 'master_replid:(%w+)')
local previous = redis.call('HGET', meta, 'replid')
if previous ~= replid then
  if previous then
    local newest = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
    redis.call('HSET', meta, 'fork', newest and newest[1] or '0-0')
  end
  redis.call('HSET', meta, 'replid', replid)
end
local id = redis.call('XADD', stream, '*', 'd', ARGV[2])
retain(stream, meta, tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]))
remember(gen .. ' ' .. id)
redis.call('PUBLISH', ARGV[3], gen .. ' ' .. id)
return { gen, id, replicas, 0 }
`);

/**
 * Read events after a position (and apply retention, as the memory log does on read).
 * KEYS[1] stream, KEYS[2] meta.
 * ARGV[1] generation to start if the stream has none, ARGV[2] the id to read after ('' for the
 * start), ARGV[3] the generation of that id, ARGV[4] limit, ARGV[5] maxBytes,
 * ARGV[6] maxLen, ARGV[7] slackLen, ARGV[8] maxAgeMs, ARGV[9] slackMs.
 * Returns {} when the stream does not exist, otherwise
 * { generation, lastId, cutId, entriesAdded, length, more, resume, id1, json1, id2, json2, ... }.
 * Entries are only read when the generations match (a mismatch is a gap the caller reports).
 * `resume` is '' unless the position names no entry although it is not behind retention: it is
 * ahead of the stream, or between two entries. Then its entry was lost (a failover promoted a
 * replica without it) or the position is forged, no entry is read, and `resume` is where the
 * reader continues without receiving twice what it had: the newest entry before the position,
 * but never past the fork (see APPEND), as entries after it are new to every older history.
 */
export const READ = script(`${LIBRARY}
local stream, meta = KEYS[1], KEYS[2]
if redis.call('EXISTS', stream) == 0 then return {} end
local gen = generation(meta, ARGV[1])
retain(stream, meta, tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]))
local last, cut, added, length = streamState(stream, meta)
local reply = { gen, last, cut, tostring(added), tostring(length), '0', '' }
local after, limit, maxBytes = ARGV[2], tonumber(ARGV[4]), tonumber(ARGV[5])
if after ~= '' and ARGV[3] ~= gen then return reply end
local function resumeBefore(position)
  local fork = redis.call('HGET', meta, 'fork')
  local bound = '(' .. position
  if fork and cmpId(fork, position) < 0 then bound = fork end
  local before = redis.call('XREVRANGE', stream, bound, '-', 'COUNT', 1)[1]
  if before and cmpId(before[1], cut) > 0 then return before[1] end
  return cut
end
if after ~= '' and cmpId(after, last) > 0 then
  reply[7] = resumeBefore(after)
  return reply
end
-- From the position itself (inclusive): whether it still names an entry costs no extra call,
-- and one entry past the limit says whether more follow.
local entries = redis.call('XRANGE', stream, after == '' and '-' or after, '+', 'COUNT', limit + 2)
local first = 1
if after ~= '' then
  if entries[1] and entries[1][1] == after then
    first = 2
  elseif cmpId(after, cut) > 0 then
    reply[7] = resumeBefore(after)
    return reply
  end
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
 * Where a channel stands: for `head()`, and to check a channel a waiter starts watching.
 * KEYS[1] stream, KEYS[2] meta. ARGV[1] generation to start if the stream has none.
 * Returns {} when the stream does not exist, otherwise { generation, lastId }.
 */
export const STATE = script(`${LIBRARY}
local stream, meta = KEYS[1], KEYS[2]
if redis.call('EXISTS', stream) == 0 then return {} end
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
