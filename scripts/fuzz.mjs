// `npm run fuzz`: the fuzz test (test/fuzz/fuzz.test.ts) with 50,000 requests per server, 100,000
// in all (CI sends 10,000 each). Override with FUZZ_REQUESTS; FUZZ_SEED replays a failed run
// (with FUZZ_CONCURRENCY=1, in the same order).
import { runLong } from './long-run.mjs';

runLong('test/fuzz/fuzz.test.ts', { FUZZ_REQUESTS: '50000' });
