// The naive 1:1 design: every held poll does its own `XREAD BLOCK` on its own Redis
// connection (connections are pooled between polls, so a steady state of N held polls costs
// N connections, not N per round). What the seed of the project warns about: it meets
// Redis' `maxclients` (10,000 by default) and the process's open-file limit.
// Speaks the hangtime protocol subset the bench uses; cursors are stream ids.
import { Redis } from 'ioredis';
import { JSON_HEADERS as HEADERS, listen, option, pollRoutes } from './common.mjs';

const url = option('redis-url');
const commands = new Redis(url);
const idle = [];
let held = 0;
let connections = 1;
const key = (channel) => `naive:{${channel}}`;

function connection() {
  const pooled = idle.pop();
  if (pooled) return pooled;
  connections++;
  // No retries: a refused connection (maxclients, EMFILE) is an error the client sees.
  const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  // Redis answers a connection over `maxclients` with an error and closes it; the command
  // then only sees "Connection is closed", so the reason is kept from the error event.
  redis.on('error', (error) => (redis.lastError = error));
  redis.once('end', () => connections--);
  return redis;
}

function fail(res, error, cause) {
  if (res.destroyed) return;
  const message = [error, cause]
    .filter(Boolean)
    .map((e) => String(e?.message ?? e))
    .join(': ')
    .slice(0, 200);
  const code = /max number of clients/i.test(message)
    ? 'redis_maxclients'
    : /connection is closed/i.test(message)
      ? 'redis_connection_closed'
      : 'redis_error';
  res.writeHead(503, HEADERS).end(JSON.stringify({ error: { code, message } }));
}

async function onPoll(_req, res, query) {
  const channel = query.get('channels');
  const waitMs = Math.round(Number(query.get('wait') ?? 25) * 1000);
  const after = query.get('cursor') ?? '$';
  const redis = connection();
  let answered = false;
  held++;
  // A client that leaves cannot take back a blocked XREAD: drop the connection with it.
  res.once('close', () => {
    if (!answered) redis.disconnect();
  });
  try {
    const reply = await redis.xread('COUNT', 100, 'BLOCK', waitMs, 'STREAMS', key(channel), after);
    answered = true;
    if (res.destroyed) return;
    idle.push(redis);
    const entries = reply?.[0]?.[1] ?? [];
    const events = entries.map(([id, fields]) => `{"channel":"${channel}","position":"${id}","data":${fields[1]}}`);
    // Naive indeed: a first poll that times out keeps `$`, and misses what lands before the next.
    const cursor = entries.length > 0 ? entries[entries.length - 1][0] : after;
    res.writeHead(200, HEADERS).end(`{"events":[${events.join(',')}],"cursor":"${cursor}","more":false}`);
  } catch (error) {
    answered = true;
    redis.disconnect();
    fail(res, error, redis.lastError);
  } finally {
    held--;
  }
}

async function onPublish({ channel, data }, res) {
  try {
    const id = await commands.xadd(key(channel), 'MAXLEN', '~', 1000, '*', 'd', JSON.stringify(data));
    res.writeHead(201, HEADERS).end(`{"channel":"${channel}","position":"${id}"}`);
  } catch (error) {
    fail(res, error);
  }
}

await listen(pollRoutes(onPoll, onPublish), () => ({ held, connections }), {
  onClose: async () => [commands, ...idle].forEach((redis) => redis.disconnect()),
});
