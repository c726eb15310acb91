/**
 * The Lua helpers every script of the Redis log starts with (see `scripts.ts`): id comparison,
 * generations (a channel's, or one a reader stamps before the first event), retention, and
 * where a stream stands.
 */

/** Lua helpers shared by the scripts. */
export const LIBRARY = `
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

-- The generation of a channel whose stream exists, starting one (fresh) when it has none. A
-- generation a reader stamped before the first event (field 'empty') is the channel's for good
-- from now on: the mark and the expiry go.
local function generation(meta, fresh)
  local gen, empty = unpack(redis.call('HMGET', meta, 'gen', 'empty'))
  if not gen then
    gen = fresh
    redis.call('HSET', meta, 'gen', gen)
  elseif empty then
    redis.call('HDEL', meta, 'empty')
    redis.call('PERSIST', meta)
  end
  return gen
end

-- The generation of a channel without a stream, for a reader: the one a reader stamped before
-- (its expiry pushed back once half of it is gone, so that a channel read now and then keeps
-- it), or a new stamp that expires after ttl ms unless an append makes it the channel's. A meta
-- without the mark belongs to a history that was lost (the stream was deleted): replaced.
local function stamped(meta, fresh, ttl)
  local gen, empty = unpack(redis.call('HMGET', meta, 'gen', 'empty'))
  if gen and empty then
    if redis.call('PTTL', meta) < ttl / 2 then redis.call('PEXPIRE', meta, ttl) end
    return gen
  end
  redis.call('DEL', meta)
  redis.call('HSET', meta, 'gen', fresh, 'empty', '1')
  redis.call('PEXPIRE', meta, ttl)
  return fresh
end

-- Redis time in ms, read once per script run (a script sees one clock anyway).
local clockMs = false
local function nowMs()
  if not clockMs then
    local now = redis.call('TIME')
    clockMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  end
  return clockMs
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
