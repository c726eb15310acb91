import { memoryLog } from '../../src/memory-log.js';
import { describeEventLog } from './event-log.js';

// The memory log ages events by an injected clock, so "time passes" costs nothing here; losing
// history means what it means in production: a process restart, i.e. a fresh log instance.
describeEventLog(
  'memory',
  async (options) => {
    let nowMs = 1_700_000_000_000;
    const now = () => nowMs;
    const logs = [memoryLog({ ...options, now })];
    return {
      get log() {
        return logs[0]!;
      },
      async advance(ms) {
        nowMs += ms;
      },
      async forget() {
        const fresh = memoryLog({ ...options, now });
        logs.push(fresh);
        return fresh;
      },
      // Positions are `<generation>-<incarnation>-<n>` (src/memory-channels.ts).
      ahead(position, count) {
        const [generation, incarnation, n] = position.split('-') as [string, string, string];
        return `${generation}-${incarnation}-${(parseInt(n, 36) + count).toString(36).padStart(9, '0')}`;
      },
      waiters: () => logs[0]!.stats().waiters,
      async dispose() {
        await Promise.all(logs.map((log) => log.close()));
      },
    };
  },
  { raceIterations: 3_000, raceEvents: 1_000 },
);
