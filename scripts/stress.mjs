// `npm run stress`: the no-loss stress test (test/stress/no-loss.test.ts) bigger and longer than
// in CI: 300 subscribers, a minute of publishing and faults per scenario. Override with
// STRESS_SUBSCRIBERS, STRESS_DURATION_MS; STRESS_SEED replays a failed run's random choices.
import { runLong } from './long-run.mjs';

runLong('test/stress/no-loss.test.ts', { STRESS_SUBSCRIBERS: '300', STRESS_DURATION_MS: '60000' });
