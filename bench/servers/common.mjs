// What every Node bench server shares: an HTTP server tuned the same way for all systems,
// a `/_bench/stats` control route (held polls, for the "verified held" check), `/_bench/memory`
// (`process.memoryUsage()`), `/_bench/gc` (a full collection, then the heap in use),
// `/_bench/stall` (the event loop's longest stall since `/_bench/stall/start`), and the
// start-up handshake with bench/run.mjs over IPC.
import { createServer } from 'node:http';
import { getHeapSpaceStatistics } from 'node:v8';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { option } from '../lib/args.mjs';

export { option };

/** Import a built entry of the package (dist/*.js): benches measure what users install. */
export const importDist = (entry) => import(pathToFileURL(join(process.env.BENCH_DIST ?? 'dist', `${entry}.js`)).href);

export const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/**
 * The subset of the hangtime protocol that the floor and the naive server speak:
 * `GET /poll?channels=…&cursor=…&wait=…` and `POST /poll {"channel","data"}`.
 * @param {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, query: URLSearchParams) => void} onPoll
 * @param {(body: { channel: string, data: unknown }, res: import('node:http').ServerResponse) => void} onPublish
 */
export function pollRoutes(onPoll, onPublish) {
  return (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname !== '/poll') return res.writeHead(404).end();
    if (req.method === 'GET') return onPoll(req, res, url.searchParams);
    if (req.method !== 'POST') return res.writeHead(405).end();
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => onPublish(JSON.parse(text), res));
  };
}

/** `process.memoryUsage()`, and the size of each V8 heap space (`spaces`, bytes). */
function memory() {
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((space) => [space.space_name, space.space_size]));
  return { ...process.memoryUsage(), spaces };
}

let delay;

/** The event loop's longest stall since `start` (bench/stall.mjs): measured only when asked, so
 * that the sampling timer costs the other scenarios nothing. */
function stall(start) {
  if (start) {
    delay?.disable();
    delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    return {};
  }
  delay?.disable();
  const maxMs = delay ? delay.max / 1e6 : undefined;
  delay = undefined;
  return { maxMs };
}

/** A full collection (twice: the first may leave what finalizers free), then the heap in use:
 * what the program keeps alive. Needs `--expose-gc`, which bench/lib/proc.mjs gives the servers. */
function collect() {
  if (typeof globalThis.gc !== 'function') return { error: 'started without --expose-gc' };
  globalThis.gc();
  globalThis.gc();
  return { heapUsed: process.memoryUsage().heapUsed };
}

/** The bench's own routes besides `/_bench/stats`: each answers its function's result as JSON. */
const BENCH_ROUTES = new Map([
  ['/_bench/memory', memory],
  ['/_bench/gc', collect],
  ['/_bench/stall/start', () => stall(true)],
  ['/_bench/stall', () => stall(false)],
]);

/**
 * Listen on a free loopback port with `listener`, `GET /_bench/stats` answering `stats()`.
 * @param {import('node:http').RequestListener} listener
 * @param {() => Record<string, unknown>} stats  must include `held`: polls held right now
 */
export async function listen(listener, stats, { onClose = async () => {} } = {}) {
  const server = createServer((req, res) => {
    const answer = req.url === '/_bench/stats' ? stats : BENCH_ROUTES.get(req.url);
    if (answer === undefined) return listener(req, res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer()));
  });
  // Same for every system: idle keep-alive sockets outlive the gap between rounds, and no
  // Node default timeout cuts a held poll.
  server.keepAliveTimeout = 300_000;
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  server.maxRequestsPerSocket = 0;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(option('port', 0)), '127.0.0.1', 4096, resolve);
  });
  const shutdown = async () => {
    server.closeAllConnections();
    server.close();
    await onClose();
    process.exit(0);
  };
  process.on('disconnect', shutdown);
  process.on('SIGTERM', shutdown);
  process.send({ type: 'ready', port: server.address().port });
  return server;
}
