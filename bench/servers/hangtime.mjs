// hangtime on hangtime/node, as a user would run it, from the built package (dist/). The
// event log is the memory log or, with `--log redis`, the Redis log (hangtime/redis).
// Publishing uses hangtime's own `POST` route.
import { importDist, listen, option } from './common.mjs';

const { createHangtime, memoryLog } = await importDist('index');
const { toNodeListener } = await importDist('node');
const kind = option('log', 'memory');
// `--grip URL`: a GRIP proxy (Pushpin) in front holds the polls (bench/grip.mjs).
const gripUrl = option('grip');
const grip =
  gripUrl === undefined
    ? undefined
    : (await importDist('grip')).gripProxy({
        url: gripUrl,
        onError: (error) => process.stderr.write(`grip onError: ${error?.stack ?? error}\n`),
      });

let log;
let construction = 'memoryLog()';
if (kind === 'redis') {
  ({ log, construction } = await redisLogFor(option('redis-url')));
} else {
  log = memoryLog();
}

const hangtime = createHangtime({
  log,
  // Holds outlast a round; the bench counts and checks every held poll itself.
  maxWaitMs: 120_000,
  maxWaiters: 20_000,
  authorizePublish: () => true,
  grip,
  onError: (error) => process.stderr.write(`onError: ${error?.stack ?? error}\n`),
});

/** Polls held right now: those registered with the log when it can tell, else those inside the hold. */
const held = () => {
  const logStats = typeof log.stats === 'function' ? log.stats() : undefined;
  return typeof logStats?.waiters === 'number' ? logStats.waiters : hangtime.stats().waiting;
};

// Requests the origin ran (polls, and those a GRIP proxy sent: `Grip-Sig`), for bench/grip.mjs.
const requests = { polls: 0, proxied: 0, publishes: 0 };
const listener = toNodeListener(hangtime);
// `req.headers` is read only behind a GRIP proxy: Node builds that object on first use, work
// the system under test does not do (hangtime/node reads `rawHeaders`).
const counting = (req, res) => {
  if (req.method === 'POST') requests.publishes++;
  else {
    requests.polls++;
    if (grip !== undefined && req.headers['grip-sig'] !== undefined) requests.proxied++;
  }
  listener(req, res);
};

await listen(counting, () => ({ held: held(), waiting: hangtime.stats().waiting, log: kind, construction, requests }), {
  onClose: () => log.close(),
});

/** The Redis log on the bench's private Redis, constructed as docs/redis.md shows. */
async function redisLogFor(url) {
  const { redisLog } = await importDist('redis');
  const onError = (error) => process.stderr.write(`redisLog onError: ${error?.stack ?? error}\n`);
  return { log: redisLog({ url, onError }), construction: 'redisLog({ url, onError })' };
}
