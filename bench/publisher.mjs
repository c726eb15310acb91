// The steady publisher of the throughput scenario, in its own process so that neither the
// bench nor a load client spends its time publishing. Events go round-robin over the
// channels; each carries its per-channel sequence number (clients check order with it) and
// its send instant on the machine-wide monotonic clock (clients measure latency with it).
//
// Messages: start { base, protocol, channels }, rate { perSecond }, stats {} — each answered
// with `<type>:reply` carrying the counters and the publisher's clock.
import http from 'node:http';
import { protocols } from './lib/protocols.mjs';
import { hrMs } from './lib/proc.mjs';

/** Publishes waiting per channel at most; beyond, the publisher is behind and says so. */
const MAX_BACKLOG = 1000;
const TICK_MS = 5;

let target;
let perSecond = 0;
let carry = 0;
let next = 0;
let lastTick = hrMs();
/** Per channel: the next sequence number, whether a publish is in flight, how many wait. */
const lanes = new Map();
const stats = { sent: 0, accepted: 0, failed: 0, behind: 0, waiting: 0 };
const agent = new http.Agent({ keepAlive: true, maxSockets: 64, noDelay: true });

/**
 * One publish in flight per channel: concurrent requests could reach the server out of order
 * and the clients' order check would blame the system. The send instant is stamped when the
 * request is made, so time spent waiting here is not counted as the system's latency — it
 * shows as a publish rate below the one asked, which fails the step.
 */
function send(name) {
  const channel = lanes.get(name);
  channel.inFlight = true;
  const data = { s: channel.seq++, ts: hrMs() };
  const { method, path, headers, body } = protocols[target.protocol].publish(name, data);
  stats.sent++;
  const req = http.request({
    host: target.host,
    port: target.port,
    method,
    path,
    headers: { ...headers, 'content-length': Buffer.byteLength(body) },
    agent,
  });
  const done = (ok) => {
    stats[ok ? 'accepted' : 'failed']++;
    channel.inFlight = false;
    if (channel.backlog > 0) {
      channel.backlog--;
      stats.waiting--;
      send(name);
    }
  };
  req.on('response', (res) => {
    res.resume();
    res.on('end', () => done(res.statusCode >= 200 && res.statusCode < 300));
  });
  req.on('error', () => done(false));
  req.end(body);
}

function publishOne() {
  const name = target.channels[next++ % target.channels.length];
  const channel = lanes.get(name);
  if (!channel.inFlight) return send(name);
  if (channel.backlog >= MAX_BACKLOG) {
    stats.behind++;
    return;
  }
  channel.backlog++;
  stats.waiting++;
}

setInterval(() => {
  const now = hrMs();
  carry += (perSecond * (now - lastTick)) / 1000;
  lastTick = now;
  if (target === undefined) return;
  while (carry >= 1) {
    carry--;
    publishOne();
  }
}, TICK_MS);

const handlers = {
  start({ base, protocol, channels }) {
    const url = new URL(base);
    target = { host: url.hostname, port: url.port, protocol, channels };
    for (const name of channels) lanes.set(name, { seq: 1, inFlight: false, backlog: 0 });
  },
  rate(message) {
    perSecond = message.perSecond;
    carry = 0;
  },
  stats() {},
};

process.on('message', (message) => {
  handlers[message?.type]?.(message);
  process.send({ type: `${message?.type}:reply`, ...stats, at: hrMs() });
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
