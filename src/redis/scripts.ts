import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { ChannelState } from './watcher.js';

/**
 * The Lua scripts of the Redis log. Each runs atomically on the node that owns the channel's
 * slot (both keys carry the channel as hash tag: see `keys.ts`), by EVALSHA with an EVAL
 * fallback when the node does not know the script yet (after a restart or a SCRIPT FLUSH).
 *
 * Why scripts: an append must create the generation, add the entry, trim, remember what it
 * trimmed and publish the wake-up as one step, or a reader could see one without the other.
 * Why the log records trimmed ids itself: Redis 7's `max-deleted-entry-id` only follows XDEL;
 * XTRIM and `XADD MAXLEN` leave it at 0-0 (checked on 7.0), so a reader behind trimmed history
 * could not be told apart from one that read everything.
 */

/** A client the log can send commands to: one Redis connection or a Cluster. */
export type RedisClient = Redis | Cluster;

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

-- Trim to the retention (0 = no limit) and record the newest id trimmed away, so readers
-- behind it get a gap. Slack lets a stream overshoot before one trim removes the excess.
local function retain(stream, meta, maxLen, slackLen, maxAgeMs, slackMs)
  local cut = false
  if maxAgeMs > 0 then
    local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
    if oldest then
      local now = redis.call('TIME')
      local cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - maxAgeMs
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
 * Append one event.
 * KEYS[1] stream, KEYS[2] meta.
 * ARGV[1] generation to start if the stream is new, ARGV[2] event JSON, ARGV[3] wake channel,
 * ARGV[4] maxLen, ARGV[5] slackLen, ARGV[6] maxAgeMs, ARGV[7] slackMs.
 * Returns { generation, id }.
 */
export const APPEND = script(`${LIBRARY}
local stream, meta = KEYS[1], KEYS[2]
if redis.call('EXISTS', stream) == 0 then
  -- A stream that does not exist has lost its history (or never had one): a new generation,
  -- so positions of an earlier life of this channel read as a gap, never as the new data.
  redis.call('DEL', meta)
end
local gen = generation(meta, ARGV[1])
local id = redis.call('XADD', stream, '*', 'd', ARGV[2])
retain(stream, meta, tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]))
redis.call('PUBLISH', ARGV[3], gen .. ' ' .. id)
return { gen, id }
`);

/**
 * Read events after a position (and apply retention, as the memory log does on read).
 * KEYS[1] stream, KEYS[2] meta.
 * ARGV[1] generation to start if the stream has none, ARGV[2] the id to read after ('' for the
 * start), ARGV[3] the generation of that id, ARGV[4] limit, ARGV[5] maxBytes,
 * ARGV[6] maxLen, ARGV[7] slackLen, ARGV[8] maxAgeMs, ARGV[9] slackMs.
 * Returns {} when the stream does not exist, otherwise
 * { generation, lastId, cutId, entriesAdded, length, more, id1, json1, id2, json2, ... }.
 * Entries are only read when the generations match (a mismatch is a gap the caller reports).
 */
export const READ = script(`${LIBRARY}
local stream, meta = KEYS[1], KEYS[2]
if redis.call('EXISTS', stream) == 0 then return {} end
local gen = generation(meta, ARGV[1])
retain(stream, meta, tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]))
local last, cut, added, length = streamState(stream, meta)
local reply = { gen, last, cut, tostring(added), tostring(length), '0' }
local after, limit, maxBytes = ARGV[2], tonumber(ARGV[4]), tonumber(ARGV[5])
if after ~= '' and ARGV[3] ~= gen then return reply end
local entries = redis.call('XRANGE', stream, after == '' and '-' or '(' .. after, '+', 'COUNT', limit)
local bytes, taken = 0, 0
for _, entry in ipairs(entries) do
  local data = ''
  for i = 1, #entry[2], 2 do
    if entry[2][i] == 'd' then data = entry[2][i + 1] end
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
if reply[6] == '0' and taken == limit and redis.call('XRANGE', stream, '(' .. entries[taken][1], '+', 'COUNT', 1)[1] then
  reply[6] = '1'
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

/** Run a script by EVALSHA, loading it with EVAL when the node answers NOSCRIPT. */
export async function runScript(client: RedisClient, { source, sha }: Script, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
  try {
    return await client.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(source, keys.length, ...keys, ...args);
  }
}
