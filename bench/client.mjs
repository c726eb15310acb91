// The load client: one process holding a share of the subscribers, over keep-alive HTTP.
// Driven by bench/run.mjs over IPC; never runs inside a server's process.
//
// Messages (each answered with `<type>:reply`):
//   open   { base, protocol, channels[], waitS, mode: 'fanout'|'stream' }  start every subscriber
//   repoll {}                    fan-out: re-poll every subscriber that received the last event
//   empty  { waitS }             one more poll each (expected to time out), then stay idle
//   cpu    {}                    this process's CPU time, for saturation figures
//   collect { from, to }         stream: latencies of deliveries received in [from, to]
// and, unasked, `round` { s, latencies[], cpuMs, at } when every subscriber of this process
// has received fan-out event `s`.
import http from 'node:http';
import { answerErrorKind, protocols } from './lib/protocols.mjs';
import { hrMs } from './lib/proc.mjs';

const RETRY_MS = 250;
const GIVE_UP_AFTER = 40;
/** New TCP connections opened at once: a burst of thousands overflows the accept queue and
 * costs 1 s SYN retransmits that would be measured as server latency. */
const CONNECT_CONCURRENCY = 200;

let proto;
let host;
let port;
let waitS;
let mode;
let subs = [];
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: Infinity, scheduling: 'lifo', noDelay: true });
const errors = {};
let emptyAnswers = 0;
const rounds = new Map();
const reported = new Set();
let stream = { at: [], latency: [] };
let emptyPhase;

const countError = (kind, n = 1) => {
  errors[kind] = (errors[kind] ?? 0) + n;
};
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const reply = (type, body) => process.send({ type: `${type}:reply`, ...body, errors, emptyAnswers, cpuMs: cpuMs(), at: hrMs() });

function poll(sub, onWritten) {
  const { path, headers } = proto.poll(sub, sub.waitS ?? waitS);
  sub.state = 'held';
  const req = http.request({ host, port, path, method: 'GET', headers, agent });
  req.on('response', (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => (body += chunk));
    res.on('end', () => onAnswer(sub, res.statusCode, res.headers, body, hrMs()));
    res.on('error', (error) => onFailure(sub, error.code ?? 'response_error'));
  });
  req.on('error', (error) => {
    onWritten?.();
    onFailure(sub, error.code ?? 'request_error');
  });
  if (onWritten) req.on('finish', onWritten);
  req.end();
}

function onAnswer(sub, status, headers, body, receivedAt) {
  let delivered;
  try {
    delivered = proto.answer(sub, status, headers, body);
  } catch {
    delivered = undefined;
  }
  if (delivered === undefined) return onFailure(sub, answerErrorKind(status, body));
  sub.failures = 0;
  sub.state = 'idle';
  if (emptyPhase !== undefined && sub.waitS !== undefined) {
    sub.waitS = undefined;
    if (delivered.length === 0) emptyPhase.empty++;
    else emptyPhase.delivered++;
    if (--emptyPhase.pending === 0) {
      reply('empty', { empty: emptyPhase.empty, delivered: emptyPhase.delivered });
      emptyPhase = undefined;
    }
    return;
  }
  if (delivered.length === 0) {
    emptyAnswers++;
    return poll(sub);
  }
  for (const data of delivered) record(sub, data, receivedAt);
  if (mode === 'stream') poll(sub);
}

/** Check order (nothing lost, nothing twice) and keep the latency. */
function record(sub, data, receivedAt) {
  const { s, ts } = data;
  if (sub.lastSeq !== undefined) {
    if (s <= sub.lastSeq) return countError('duplicate');
    if (s > sub.lastSeq + 1) countError('missed', s - sub.lastSeq - 1);
  }
  sub.lastSeq = s;
  const latency = receivedAt - ts;
  if (mode === 'stream') {
    stream.at.push(receivedAt);
    stream.latency.push(latency);
    return;
  }
  let round = rounds.get(s);
  if (round === undefined) rounds.set(s, (round = { latencies: [] }));
  round.latencies.push(latency);
  if (round.latencies.length === subs.length) sendRound(s);
}

function sendRound(s) {
  reported.add(s);
  const round = rounds.get(s);
  rounds.delete(s);
  process.send({
    type: 'round',
    s,
    latencies: round?.latencies ?? [],
    complete: (round?.latencies.length ?? 0) === subs.length,
    cpuMs: cpuMs(),
    at: hrMs(),
    errors,
  });
}

function onFailure(sub, kind) {
  countError(kind);
  sub.state = 'idle';
  if (++sub.failures >= GIVE_UP_AFTER) {
    sub.state = 'stopped';
    countError('subscriber_gave_up');
    if (emptyPhase !== undefined && --emptyPhase.pending === 0) {
      reply('empty', { empty: emptyPhase.empty, delivered: emptyPhase.delivered });
      emptyPhase = undefined;
    }
    return;
  }
  // A failed poll is retried with the same cursor, as a well-behaved client would.
  setTimeout(() => {
    if (sub.state === 'idle') poll(sub);
  }, RETRY_MS);
}

async function open(message) {
  proto = protocols[message.protocol];
  ({ hostname: host, port } = new URL(message.base));
  waitS = message.waitS;
  mode = message.mode;
  subs = message.channels.map((channel) => ({ channel, state: 'idle', failures: 0 }));
  let inFlight = 0;
  let wake;
  for (const sub of subs) {
    while (inFlight >= CONNECT_CONCURRENCY) await new Promise((resolve) => (wake = resolve));
    inFlight++;
    let written = false;
    poll(sub, () => {
      if (written) return;
      written = true;
      inFlight--;
      wake?.();
    });
  }
  while (inFlight > 0) await new Promise((resolve) => (wake = resolve));
  reply('open', { count: subs.length });
}

const handlers = {
  open,
  repoll() {
    let count = 0;
    for (const sub of subs) {
      if (sub.state !== 'idle') continue;
      poll(sub);
      count++;
    }
    reply('repoll', { count });
  },
  empty(message) {
    const idle = subs.filter((sub) => sub.state === 'idle');
    emptyPhase = { pending: idle.length, empty: 0, delivered: 0 };
    if (idle.length === 0) return reply('empty', { empty: 0, delivered: 0 });
    for (const sub of idle) {
      sub.waitS = message.waitS;
      poll(sub);
    }
  },
  cpu() {
    reply('cpu', {});
  },
  /** Fan-out: give up waiting for event `s` and report what arrived. */
  flush(message) {
    if (reported.has(message.s)) return reply('flush', {});
    const received = rounds.get(message.s)?.latencies.length ?? 0;
    if (received < subs.length) countError('no_delivery', subs.length - received);
    sendRound(message.s);
    reply('flush', {});
  },
  collect({ from, to }) {
    const latencies = [];
    const keep = { at: [], latency: [] };
    stream.at.forEach((at, i) => {
      if (at >= from && at <= to) latencies.push(stream.latency[i]);
      else if (at > to) {
        keep.at.push(at);
        keep.latency.push(stream.latency[i]);
      }
    });
    stream = keep;
    reply('collect', { latencies });
  },
};

process.on('message', (message) => {
  const handler = handlers[message?.type];
  if (handler) Promise.resolve(handler(message)).catch((error) => process.send({ type: 'fatal', message: String(error?.stack ?? error) }));
});
// The bench went away: nothing to report to any more.
process.on('disconnect', () => {
  agent.destroy();
  process.exit(0);
});
process.send({ type: 'ready', openFiles: (await import('./lib/proc.mjs')).openFileLimit() });
