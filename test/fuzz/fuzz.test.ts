import { afterEach, describe, expect, it } from 'vitest';
import { memoryLog } from '../../src/index.js';
import { redisLog } from '../../src/redis/index.js';
import { REDIS_URL, adminClient, deletePrefix, describeRedis, testPrefix } from '../support/redis.js';
import { intFrom, seedFrom, seededRandom } from './prng.js';
import { ALL_MUTATIONS, LIMITS, runFuzz, startTarget, type FuzzReport, type FuzzTarget } from './run.js';
import { Transport } from './transport.js';

/**
 * Fuzzing a real server (issue 9): random and mutated requests, from real polls and publishes
 * with real cursors, at a memory-log server and a Redis-log server: 10,000 each in CI (20,000
 * in all; FUZZ_REQUESTS sets the number per server, `npm run fuzz` sends 50,000 each). No 5xx
 * but the documented 503, every hangtime error a JSON body with its documented `code`, a valid
 * poll and publish work after every tenth of the run, and the heap does not outgrow the events
 * the log retains. A failure prints its seed: FUZZ_SEED=<seed> replays the same requests
 * (with FUZZ_CONCURRENCY=1, in the same order too).
 */

const seed = seedFrom('FUZZ_SEED');
const REQUESTS = intFrom('FUZZ_REQUESTS', 10_000);
const CONCURRENCY = intFrom('FUZZ_CONCURRENCY', 8);
const TIMEOUT_MS = 300_000 + REQUESTS * 10;

let targets: FuzzTarget[] = [];
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(targets.map((target) => target.close()));
  targets = [];
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

function verify(report: FuzzReport): void {
  process.stderr.write(`${report.summary}\n`);
  const replay = `\nReplay: FUZZ_SEED=${seed} FUZZ_REQUESTS=${REQUESTS} npx vitest run test/fuzz/fuzz.test.ts\n`;
  const kinds = [...report.violations].map(([kind, { count, examples }]) => `${count}× ${kind}\n  ${examples.join('\n  ')}`);
  expect(kinds.length, `${report.summary}${replay}${kinds.join('\n')}`).toBe(0);
  expect(report.heap.end - report.heap.baseline, `${report.summary}${replay}the heap grew beyond the events retained`).toBeLessThanOrEqual(
    report.heap.allowed,
  );
  // The run went where it should: every mutation tried, the documented 503 provoked.
  if (REQUESTS >= 5_000) expect([...ALL_MUTATIONS].filter((name) => !report.mutationsSeen.has(name))).toEqual([]);
  expect(report.tooManyWaiters).toBeGreaterThan(0);
}

describe('fuzzing the memory log server', () => {
  it(
    `${REQUESTS} random and mutated requests: no 5xx but the documented 503, every error a JSON code, a valid poll works after`,
    async () => {
      const target = await startTarget(memoryLog({ maxEventsPerChannel: 50, maxEventBytes: LIMITS.maxEventBytes }));
      targets.push(target);
      verify(await runFuzz('memory log', target, seededRandom(seed), { seed, requests: REQUESTS, concurrency: CONCURRENCY }));
    },
    TIMEOUT_MS,
  );
});

describeRedis('fuzzing the Redis log server', () => {
  it(
    `${REQUESTS} random and mutated requests: no 5xx but the documented 503, every error a JSON code, a valid poll works after`,
    async () => {
      const prefix = testPrefix();
      cleanups.push(async () => {
        const admin = adminClient();
        await deletePrefix(admin, prefix);
        admin.disconnect();
      });
      const target = await startTarget(redisLog({ url: REDIS_URL, prefix, maxEventsPerChannel: 50, maxEventBytes: LIMITS.maxEventBytes }));
      targets.push(target);
      verify(await runFuzz('Redis log', target, seededRandom(seed).fork(1), { seed, requests: REQUESTS, concurrency: CONCURRENCY }));
    },
    TIMEOUT_MS,
  );
});

/** The two defects the fuzzer found, each on its own, on both logs. */
/** A Redis log under a fresh prefix, whose keys are deleted after the test. */
function cleanRedisLog() {
  const prefix = testPrefix();
  cleanups.push(async () => {
    const admin = adminClient();
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });
  return redisLog({ url: REDIS_URL, prefix, maxEventBytes: LIMITS.maxEventBytes });
}

describe.each([
  ['memory log', () => memoryLog({ maxEventBytes: LIMITS.maxEventBytes })],
  ['Redis log', cleanRedisLog],
] as const)("the fuzzer's findings, on the %s", (name, makeLog) => {
  const run = name === 'Redis log' ? describeRedis : describe;
  run(`(${name})`, () => {
    it('a publish body nested 5,000 levels deep (10 KB) is accepted or answers 4xx, never 503', async () => {
      const target = await startTarget(makeLog());
      targets.push(target);
      const transport = new Transport(target.port);
      try {
        for (const data of [`${'['.repeat(5_000)}${']'.repeat(5_000)}`, `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`]) {
          const response = await transport.send({
            label: 'deep',
            method: 'POST',
            target: '/poll',
            headers: [['Content-Type', 'application/json']],
            body: Buffer.from(`{"channel":"chat","data":${data}}`),
          });
          const body = response.body.toString('utf8');
          // Stored (201), or refused as the client's fault (4xx): the event log is not unavailable.
          expect(response.status, body).toBeLessThan(500);
          if (response.status !== 201) expect(JSON.parse(body)).toMatchObject({ error: { code: expect.stringMatching(/^[a-z_]+$/) } });
        }
      } finally {
        transport.close();
      }
    });

    it("a chunked publish body over the adapter's maxBodyBytes answers 413 (not a dropped connection)", async () => {
      const target = await startTarget(makeLog());
      targets.push(target);
      const transport = new Transport(target.port);
      try {
        const body = Buffer.from(`{"channel":"chat","data":"${'y'.repeat(LIMITS.maxBodyBytes + 1_000)}"}`);
        const response = await transport.send({
          label: 'chunked',
          method: 'POST',
          target: '/poll',
          headers: [['Content-Type', 'application/json']],
          body,
          chunked: true,
        });
        expect(response.answered, `no answer: ${response.error}`).toBe(true);
        expect(response.status).toBe(413);
        expect(JSON.parse(response.body.toString('utf8'))).toMatchObject({ error: { code: 'payload_too_large' } });
        // And the server still serves.
        const poll = await transport.send({ label: 'after', method: 'GET', target: '/poll?channels=chat&wait=0', headers: [] });
        expect(poll.status).toBe(200);
      } finally {
        transport.close();
      }
    });
  });
});
