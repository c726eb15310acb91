import { intFrom, seededRandom, type Random } from '../fuzz/prng.js';
import { StressSubscriber } from './fleet.js';
import { Ledger, describeProblems, starvation, type Accounting, type Problem } from './ledger.js';
import { bursts, postTo, publishOne, sleep, steady, type Append } from './publishers.js';
import type { ServerProcess } from './servers.js';

/**
 * One stress run: many `hangtime/client` subscribers on several channels each, publishers
 * appending concurrently (backend `log.append` and HTTP `POST`), faults at set moments, client
 * aborts all along; then every subscriber's sequence is checked against the log's (ledger.ts).
 *
 * Sizes come from the environment, so that `npm run stress` runs the same scenarios longer and
 * bigger than CI does: STRESS_SUBSCRIBERS, STRESS_DURATION_MS (publishing time of each
 * scenario), STRESS_SEED (replays the random choices of a failed run).
 */

export interface Fault {
  /** When, as a fraction of the publishing time. */
  readonly at: number;
  readonly name: string;
  run(): Promise<void>;
}

export interface ScenarioOptions {
  readonly name: string;
  readonly server: ServerProcess;
  /** Backend publishing: `log.append` in the server process, or in another process's log. */
  readonly backend: Append;
  readonly faults: readonly Fault[];
  /** Subscribers closed before the first publish and opened again (with the cursor they
   * had, at every channel's start) at this fraction of the run: after a loss of history. */
  readonly sleepersWakeAt?: number;
  /** Whether history may be lost in this run (memory restarts, Redis without persistence). */
  readonly gapsAllowed: boolean;
  /** Whether the faults make the log fail reads and appends (503 `log_unavailable`). */
  readonly logFailuresExpected: boolean;
}

export interface ScenarioReport {
  readonly problems: readonly Problem[];
  readonly accounting: Accounting;
  readonly summary: string;
}

/** The scenario sizes: small in CI, larger from the environment (`npm run stress`). */
export const sizes = {
  subscribers: intFrom('STRESS_SUBSCRIBERS', 100),
  durationMs: intFrom('STRESS_DURATION_MS', 10_000),
  channels: 8,
  channelsPerSubscriber: 3,
};

/** The hot channel: first in most subscriptions, and published in bursts. */
const HOT = 'hot';

export async function runScenario(seed: number, options: ScenarioOptions): Promise<ScenarioReport> {
  const random = seededRandom(seed);
  const ledger = new Ledger();
  const { server } = options;
  const channels = [HOT, ...Array.from({ length: sizes.channels - 1 }, (_, i) => `quiet-${i + 1}`)];
  const quiet = channels.slice(1);
  const timeline: string[] = [];
  const began = Date.now();
  const mark = (what: string) => timeline.push(`${((Date.now() - began) / 1000).toFixed(1)}s ${what}`);

  const subscribers = Array.from({ length: sizes.subscribers }, (_, i) => {
    const own = random.fork(i);
    // Half the subscriptions put the hot channel first (where a greedy answer starves the
    // others), a quarter elsewhere, a quarter not at all.
    const others = shuffle(own, quiet).slice(0, sizes.channelsPerSubscriber - (i % 4 === 3 ? 0 : 1));
    const list = i % 4 < 2 ? [HOT, ...others] : i % 4 === 2 ? [...others.slice(0, 1), HOT, ...others.slice(1)] : others;
    return new StressSubscriber(`sub-${i}`, list, {
      url: server.url,
      ledger,
      random: own,
      cutChance: 0.02,
      waitMs: own.pick([undefined, 500, 1_000]),
    });
  });

  const problems: Problem[] = [];
  try {
    // Everyone follows from every channel's start: live before the first publish.
    for (const subscriber of subscribers) subscriber.start();
    await waitFor(
      () => subscribers.every((subscriber) => subscriber.live),
      60_000,
      () => `${subscribers.filter((s) => !s.live).length} subscribers not live`,
    );
    mark('all subscribers live');
    const sleepers = options.sleepersWakeAt === undefined ? [] : subscribers.filter((_, i) => i % 12 === 5);
    await Promise.all(sleepers.map((sleeper) => sleeper.stop()));

    const startedAt = Date.now();
    const endAt = startedAt + sizes.durationMs;
    const over = () => Date.now() >= endAt;
    const at = (fraction: number) => startedAt + fraction * sizes.durationMs;
    const { backend } = options;
    const http = postTo(server.url);
    const publishers = [
      // Sequential publishers: on a slow machine they publish less rather than pile up.
      ...[0, 1].map((n) =>
        steady({
          name: `log${n}`,
          via: 'log',
          append: backend,
          ledger,
          random: random.fork(1000 + n),
          channels,
          intervalMs: 60,
          until: over,
        }),
      ),
      steady({ name: 'http0', via: 'http', append: http, ledger, random: random.fork(2000), channels, intervalMs: 100, until: over }),
      bursts({
        name: 'burst',
        via: 'log',
        append: backend,
        ledger,
        random: random.fork(3000),
        channel: HOT,
        size: 50,
        everyMs: 1_500,
        until: over,
      }),
      bursts({
        name: 'burst-http',
        via: 'http',
        append: http,
        ledger,
        random: random.fork(3001),
        channel: HOT,
        size: 15,
        everyMs: 2_500,
        until: over,
      }),
    ];

    const faults = (async () => {
      for (const fault of [...options.faults].sort((a, b) => a.at - b.at)) {
        await sleep(Math.max(0, at(fault.at) - Date.now()));
        mark(`${fault.name}…`);
        await fault.run();
        mark(`${fault.name} done`);
      }
    })();

    const wakeSleepers = (async () => {
      if (options.sleepersWakeAt === undefined) return;
      await sleep(Math.max(0, at(options.sleepersWakeAt) - Date.now()));
      for (const sleeper of sleepers) sleeper.start();
      mark(`${sleepers.length} sleepers woken`);
    })();

    // Client aborts: a subscriber closes (its poll in flight aborted) and comes back later from
    // its cursor, one every ~250 ms, for 0.5 to 3 s.
    const aborts = (async () => {
      const own = random.fork(4000);
      const comebacks: Array<Promise<void>> = [];
      while (!over()) {
        await sleep(own.between(100, 400));
        const candidates = subscribers.filter(
          (subscriber) => subscriber.running && !subscriber.restarting && !sleepers.includes(subscriber),
        );
        if (candidates.length > 0) comebacks.push(own.pick(candidates).restart(own.between(500, 3_000)));
      }
      await Promise.all(comebacks);
    })();

    await Promise.all([...publishers, faults, wakeSleepers, aborts]);
    mark('publishing, faults and aborts over');

    // A last event on every channel, once the faults are over: it is in the live generation,
    // so a subscriber that has it has everything it can get.
    const finals = new Map<string, string>();
    await Promise.all(channels.map((channel) => publishFinal(ledger, backend, channel, finals)));
    const behind = () =>
      subscribers.filter((subscriber) =>
        subscriber.channels.some((channel) => !ledger.received(subscriber.name, channel, finals.get(channel)!)),
      );
    await waitFor(
      () => behind().length === 0 || subscribers.some((subscriber) => subscriber.fatal !== undefined),
      60_000 + sizes.durationMs,
      () => '',
    ).catch(() => {});
    mark(behind().length === 0 ? 'all caught up' : `${behind().length} subscribers not caught up (drain timed out)`);
    const notCaughtUp = behind().length;

    await Promise.all(subscribers.map((subscriber) => subscriber.stop()));
    for (const subscriber of subscribers) {
      if (subscriber.fatal !== undefined)
        problems.push({
          kind: 'stopped',
          channel: '*',
          subscriber: subscriber.name,
          detail: `the client stopped: ${String(subscriber.fatal)}`,
        });
    }
    const accounting = ledger.account({ gapsAllowed: options.gapsAllowed });
    problems.push(...accounting.problems);
    // A 500 is a bug; a 503 (log unavailable) only where the faults make the log unavailable.
    for (const error of server.errors) {
      if (error.status !== 503 || !options.logFailuresExpected)
        problems.push({ kind: 'server-error', channel: '*', detail: `${error.status}: ${error.message.split('\n')[0]!}` });
    }
    for (const subscriber of subscribers) {
      if (subscriber.channels.length < 2) continue;
      problems.push(
        ...starvation(subscriber.name, subscriber.channels, subscriber.answers, ledger.publications, {
          marginMs: 2_000,
          maxPassedOver: 2 * subscriber.channels.length + 2,
        }),
      );
    }

    const count = (map: (subscriber: StressSubscriber) => Map<string | number, number>) => {
      const total = new Map<string | number, number>();
      for (const subscriber of subscribers) for (const [key, n] of map(subscriber)) total.set(key, (total.get(key) ?? 0) + n);
      return [...total].map(([key, n]) => `${key}×${n}`).join(' ');
    };
    const { stats } = accounting;
    const summary = [
      `${options.name}: seed ${seed}, ${subscribers.length} subscribers, ${sizes.durationMs} ms of publishing, ${((Date.now() - began) / 1000).toFixed(1)} s in all`,
      `published ${stats.attempted} (${stats.acknowledged} acknowledged, ${stats.failed} failed, ${stats.landedUnacknowledged} of those landed); ${stats.deliveries} deliveries, ${stats.gaps} gaps (${
        Object.entries(stats.gapReasons)
          .map(([reason, n]) => `${reason}×${n}`)
          .join(' ') || 'none'
      }) covering ${stats.coveredByGaps}`,
      `publish failures: ${failures(ledger) || 'none'}`,
      `answers: ${count((s) => s.statuses)}; client errors: ${count((s) => s.errors) || 'none'}`,
      `server onError: ${server.errors.length} (${server.errors.filter((e) => e.status === 503).length} log failures); requests cut ${subscribers.reduce((n, s) => n + s.cuts, 0)}, subscriptions reopened ${subscribers.reduce((n, s) => n + s.restarts, 0)}, sleepers ${sleepers.length}, not caught up ${notCaughtUp}, server lives ${server.lives}`,
      ...timeline.map((line) => `  ${line}`),
    ].join('\n');
    return { problems, accounting, summary };
  } finally {
    await Promise.all(subscribers.map((subscriber) => subscriber.stop()));
  }
}

/** Why publishes failed, counted by message. */
function failures(ledger: Ledger): string {
  const counts = new Map<string, number>();
  for (const { via, failure } of ledger.publications.values()) {
    if (failure === undefined) continue;
    const key = `${via.split(':')[0]}: ${failure.slice(0, 80)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${key} ×${n}`).join('; ');
}

/** Publish the last event of a channel, with a new id per attempt, until one is acknowledged. */
async function publishFinal(ledger: Ledger, append: Append, channel: string, finals: Map<string, string>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const id = `final:${channel}:${attempt}`;
    if (await publishOne(ledger, append, 'log:final', id, channel)) {
      finals.set(channel, id);
      return;
    }
    await sleep(100);
  }
  throw new Error(`Could not publish the last event of ${channel}`);
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out after ${timeoutMs} ms: ${what()}`);
    await sleep(50);
  }
}

function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** The failure message of a run: its summary, its seed to replay it, and its problems. */
export function failureMessage(report: ScenarioReport, seed: number): string {
  return `${report.summary}\nReplay with STRESS_SEED=${seed}\n${describeProblems(report.problems, Number(process.env.STRESS_PROBLEMS ?? 8))}`;
}
