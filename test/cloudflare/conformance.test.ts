import { afterAll, beforeAll, vi } from 'vitest';
import { describeEventLog } from '../conformance/event-log.js';
import { proxyLog, restartChannel } from './subject.js';
import { startTestWorker, type TestWorker } from './worker.js';

// The shared conformance suite against the Durable Object log running in workerd (Miniflare),
// one object per channel with SQLite storage. The suite runs in Node and reaches the log through
// the test Worker (see subject.ts). Time passes for real (the objects age events by their own
// clock); losing history is what it is on Cloudflare: the object's storage deleted, the object
// restarted.
// Every log call is an HTTP request into workerd: on a loaded 2-core machine the race tests take
// several times their quiet duration (30 s seen at a load average of 59), so the bound is generous.
vi.setConfig({ testTimeout: 120_000 });

let worker: TestWorker;
beforeAll(async () => {
  worker = await startTestWorker();
});
afterAll(() => worker?.dispose());

describeEventLog(
  'Durable Object (workerd)',
  async (options) => {
    const log = proxyLog(worker, options);
    return {
      log,
      advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      async forget(channel) {
        await restartChannel(worker, channel, true);
        return log;
      },
      // Positions are `<generation>-<seq>` (adapters/cloudflare/channel.ts).
      ahead(position, count) {
        const [generation, seq] = position.split('-') as [string, string];
        return `${generation}-${(parseInt(seq, 36) + count).toString(36).padStart(11, '0')}`;
      },
      dispose: async () => {},
    };
  },
  { raceIterations: 200, raceEvents: 200 },
);
