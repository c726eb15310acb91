import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createHangtime, memoryLog, type EventLog, type Hangtime } from '../../src/index.js';
import { serve, type NodeServer } from '../../adapters/node/index.js';
import { check, describeRequest, preview } from './invariants.js';
import type { Random } from './prng.js';
import { FuzzState, MUTATION_NAMES, foreignPoll, generate, type Limits } from './requests.js';
import { Transport, type FuzzRequest, type FuzzResponse } from './transport.js';

/**
 * One fuzz run against a real server (hangtime on `node:http`, on a loopback port): `requests`
 * random and mutated requests from `concurrency` workers, each answer checked
 * (invariants.ts); between phases, a real poll and publish must still work; at the end, the
 * heap must not have grown beyond the events the log retains.
 */

export const LIMITS: Limits = { maxEventBytes: 32_768, maxBodyBytes: 65_536, maxChannels: 8, maxEvents: 20 };
/** Channels the fuzzer polls and publishes to; `probe` is kept for the round-trip checks. */
const CHANNELS = ['chat', 'news', 'a', 'b.c', 'x:y', 'u@v', 'p/q', 'z-_', 'L'.repeat(128)];
const RETAINED_PER_CHANNEL = 50;
/** Held polls one process takes: bursts of more provoke the documented 503 too_many_waiters. */
const MAX_WAITERS = 16;

export interface FuzzTarget {
  readonly hangtime: Hangtime;
  readonly server: NodeServer;
  readonly port: number;
  close(): Promise<void>;
}

/** A hangtime server over `log`, configured to reach every answer the protocol has. */
export async function startTarget(log: EventLog): Promise<FuzzTarget> {
  const hangtime = createHangtime({
    log,
    maxWaitMs: 300,
    maxEvents: LIMITS.maxEvents,
    maxChannels: LIMITS.maxChannels,
    maxWaiters: MAX_WAITERS,
    cors: { origin: ['https://example.com'], credentials: true },
    authorize: (_request, channels) =>
      channels.includes('private') ? { status: 401, headers: { 'www-authenticate': 'Bearer' } } : !channels.includes('forbidden'),
    authorizePublish: (_request, channel) => channel !== 'forbidden',
  });
  const server = await serve(hangtime, { port: 0, maxBodyBytes: LIMITS.maxBodyBytes });
  return {
    hangtime,
    server,
    port: Number(new URL(server.url).port),
    close: async () => {
      await server.close();
      await log.close();
    },
  };
}

export interface FuzzReport {
  /** Every kind of violation: how many, and the first few, described. */
  readonly violations: Map<string, { count: number; examples: string[] }>;
  readonly summary: string;
  readonly heap: { baseline: number; end: number; allowed: number };
  readonly mutationsSeen: ReadonlySet<string>;
  readonly tooManyWaiters: number;
}

/** A forced garbage collection (the flag can be set at run time; `gc` is then found in a new context). */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function heapUsed(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return process.memoryUsage().heapUsed;
}

/** `options.seed` is the one that replays the run (FUZZ_SEED); `random` may be derived from it. */
export async function runFuzz(
  name: string,
  target: FuzzTarget,
  random: Random,
  options: { seed: number; requests: number; concurrency: number },
): Promise<FuzzReport> {
  const transport = new Transport(target.port, options.concurrency);
  const burstTransport = new Transport(target.port, MAX_WAITERS * 2);
  const started = Date.now();
  const violations = new Map<string, { count: number; examples: string[] }>();
  let violationCount = 0;
  /** Record a violation under its kind (its text without the numbers that vary). */
  const violate = (text: string, example: string) => {
    const kind = text
      .replace(/\d+ ms/g, 'N ms')
      .replace(/#\d+/g, '#N')
      .slice(0, 120);
    let entry = violations.get(kind);
    if (entry === undefined) violations.set(kind, (entry = { count: 0, examples: [] }));
    entry.count++;
    violationCount++;
    if (entry.examples.length < 3) entry.examples.push(example);
  };
  const counts = new Map<string, number>();
  const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  const mutationsSeen = new Set<string>();
  /** Per channel, the sizes of the last accepted events: what the memory log retains. */
  const accepted = new Map<string, number[]>();
  let tooManyWaiters = 0;
  let done = 0;

  // Cursors of another server: another log, so another generation (a gap, or a cursor this
  // log cannot read).
  const other = createHangtime({ log: memoryLog() });
  const foreign: string[] = [];
  for (const channel of CHANNELS.slice(0, 3)) {
    await other.log.append(channel, { foreign: true });
    foreign.push((await other.wait({ channels: [channel], from: 'oldest', waitMs: 0 })).cursor);
  }
  await other.log.close();
  const state = new FuzzState(CHANNELS, foreign);

  const record = (request: FuzzRequest, response: FuzzResponse, valid: 'poll' | 'publish' | undefined, where: string) => {
    for (const part of request.label.split('>').slice(1))
      mutationsSeen.add(part.replace(/^method:.*/, 'method').replace(/^length-lie-.*/, 'length-lie'));
    const verdict = check(request, response);
    const fail = (why: string) =>
      violate(
        why,
        `${where}: ${why}\n    request: ${describeRequest(request)}\n    answer: ${response.answered ? `${response.status} ${JSON.stringify(response.headers)} ${preview(response.body)}` : response.error} (${response.transport}, ${response.ms} ms)`,
      );
    if ('violation' in verdict) {
      count('violation');
      return fail(verdict.violation);
    }
    if (verdict.kind !== 'hangtime') {
      count(verdict.kind);
      return;
    }
    count(`${response.status}${verdict.code ? ` ${verdict.code}` : ''}`);
    if (response.status === 503) tooManyWaiters++;
    // Unmutated requests have one right answer.
    if (valid === 'poll' && ![200, 410, 503].includes(response.status)) fail(`a valid poll answered ${response.status}`);
    if (valid === 'publish' && response.status !== 201) fail(`a valid publish answered ${response.status}`);
    // Learn from what the server says: real cursors for the next polls, retained events.
    if ((response.status === 200 || response.status === 410) && request.method === 'GET') {
      const cursor = (JSON.parse(response.body.toString('utf8')) as { cursor?: unknown }).cursor;
      if (typeof cursor === 'string') state.addCursor(cursor);
    }
    if (response.status === 201) {
      const { channel } = JSON.parse(response.body.toString('utf8')) as { channel: string };
      let sizes = accepted.get(channel);
      if (sizes === undefined) accepted.set(channel, (sizes = []));
      sizes.push(request.body?.length ?? 0);
      if (sizes.length > RETAINED_PER_CHANNEL) sizes.shift();
    }
  };

  // Requests in flight, for the watchdog: the transport gives up on any after 10 s, so one still
  // out after 20 s is a hang of the test itself.
  const inFlight = new Map<number, { request: FuzzRequest; since: number }>();
  const watchdog = setInterval(() => {
    for (const [i, { request, since }] of inFlight) {
      if (Date.now() - since > 20_000) {
        process.stderr.write(`fuzz watchdog: #${i} unanswered after ${Date.now() - since} ms: ${describeRequest(request)}\n`);
        violate('still unanswered after 20 s (a hang of the test)', `#${i}: ${describeRequest(request)}`);
        inFlight.delete(i);
      }
    }
  }, 5_000);

  const worker = async (index: number, from: number, to: number) => {
    const own = random.fork(index * 1_000_003 + from);
    for (let i = from + index; i < to; i += options.concurrency) {
      const generated = own.chance(0.01) ? { request: foreignPoll(own, state) } : generate(own, state, LIMITS);
      inFlight.set(i, { request: generated.request, since: Date.now() });
      const response = await transport.send(generated.request);
      inFlight.delete(i);
      record(generated.request, response, 'valid' in generated ? generated.valid : undefined, `#${i} (worker ${index})`);
      done++;
      // Enough to tell what is wrong: the rest of the run would only repeat it.
      if (violationCount >= 2_000) return;
    }
  };

  /** More held polls at once than the server takes: the documented 503 with Retry-After. */
  const burst = async () => {
    const polls = Array.from({ length: MAX_WAITERS + 8 }, async (_, i) => {
      const request: FuzzRequest = {
        label: 'held-burst',
        method: 'GET',
        target: `/poll?channels=${CHANNELS[i % 3]}&wait=0.3`,
        headers: [],
      };
      record(request, await burstTransport.send(request), 'poll', 'held burst');
    });
    await Promise.all(polls);
  };

  /** A real subscriber's round trip: a cursor, a publish, the event in the next poll, and a held poll woken by a publish. */
  const roundTrip = async (where: string) => {
    const ask = async (request: FuzzRequest) => {
      const response = await transport.send(request);
      const body = response.answered
        ? (JSON.parse(response.body.toString('utf8') || 'null') as { cursor?: string; events?: Array<{ data: unknown }> } | null)
        : null;
      return { response, body };
    };
    const n = Math.floor(random.next() * 1e9);
    const first = await ask({ label: 'round-trip', method: 'GET', target: '/poll?channels=probe&wait=0', headers: [] });
    const published = await ask({
      label: 'round-trip',
      method: 'POST',
      target: '/poll',
      headers: [['Content-Type', 'application/json']],
      body: Buffer.from(JSON.stringify({ channel: 'probe', data: { n } })),
    });
    const next = await ask({
      label: 'round-trip',
      method: 'GET',
      target: `/poll?channels=probe&wait=0&cursor=${first.body?.cursor ?? ''}`,
      headers: [],
    });
    const delivered = next.body?.events?.some((event) => (event.data as { n?: number } | null)?.n === n) ?? false;
    if (first.response.status !== 200 || published.response.status !== 201 || next.response.status !== 200 || !delivered) {
      violate(
        'a valid poll and publish no longer work',
        `${where}: ${first.response.status}, ${published.response.status}, ${next.response.status} ${preview(next.response.body)}`,
      );
      return;
    }
    const held = ask({
      label: 'round-trip',
      method: 'GET',
      target: `/poll?channels=probe&wait=0.3&cursor=${next.body?.cursor ?? ''}`,
      headers: [],
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await ask({
      label: 'round-trip',
      method: 'POST',
      target: '/poll',
      headers: [['Content-Type', 'application/json']],
      body: Buffer.from(JSON.stringify({ channel: 'probe', data: { n: n + 1 } })),
    });
    const woken = await held;
    if (woken.response.status !== 200 || !(woken.body?.events ?? []).some((event) => (event.data as { n?: number } | null)?.n === n + 1)) {
      violate('a held poll was not woken by a publish', `${where}: ${woken.response.status} ${preview(woken.response.body)}`);
    }
  };

  try {
    const phases = 10;
    const size = Math.ceil(options.requests / phases);
    let baseline = 0;
    const heapTrend: number[] = [];
    for (let phase = 0; phase < phases && violationCount < 2_000; phase++) {
      const from = phase * size;
      const to = Math.min(options.requests, from + size);
      await Promise.all([...Array.from({ length: options.concurrency }, (_, index) => worker(index, from, to)), burst()]);
      await roundTrip(`after request ${to}`);
      // The first phase fills the bounded caches (parsed queries, decoded cursors): the baseline.
      if (phase === 0) baseline = await heapUsed();
      else if (phase === phases - 1) heapTrend.push(await heapUsed());
      else if (phase % 3 === 0) heapTrend.push(await heapUsed());
    }
    const end = heapTrend[heapTrend.length - 1] ?? baseline;
    let retained = 0;
    for (const sizes of accepted.values()) for (const size of sizes) retained += size;
    // Retained events as JS strings (up to 2 bytes a character) with their entries, a little
    // per channel, and 8 MiB for the bounded caches and the allocator's own slack.
    const allowed = 2 * retained + 1_024 * accepted.size + 8 * 1024 * 1024;
    const seconds = (Date.now() - started) / 1000;
    const byCount = [...counts]
      .sort((a, b) => b[1] - a[1])
      .map(([key, n]) => `${key}×${n}`)
      .join(' ');
    const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    const summary = [
      `fuzz ${name}: FUZZ_SEED=${options.seed}, ${done} requests in ${seconds.toFixed(1)} s (${Math.round(done / seconds)}/s), ${options.concurrency} workers`,
      `  answers: ${byCount}`,
      `  heap: ${mb(baseline)} after the first phase, then ${heapTrend.map(mb).join(', ')} (allowed growth ${mb(allowed)}: ${accepted.size} channels, ${mb(retained)} of events retained)`,
    ].join('\n');
    return { violations, summary, heap: { baseline, end, allowed }, mutationsSeen, tooManyWaiters };
  } finally {
    clearInterval(watchdog);
    transport.close();
    burstTransport.close();
  }
}

/** The mutations a run must have tried (every one, at the CI size). */
export const ALL_MUTATIONS: readonly string[] = MUTATION_NAMES;
