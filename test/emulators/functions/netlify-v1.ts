// The Netlify Functions v1 function netlify-cli runs, bundled by esbuild in the suite's setup.
// netlify-cli runs v1 functions in its own process, so the module-scope log serves every call,
// as on Netlify; `getRemainingTimeInMillis()` is real there (the local 30 s limit).
import { netlifyV1 } from '../../../adapters/netlify/index.js';
import { createHangtime } from '../../../src/index.js';
import { redisLog } from '../../../src/redis/index.js';

const hangtime = createHangtime({
  log: redisLog({ url: process.env.REDIS_URL, prefix: process.env.HANGTIME_TEST_PREFIX }),
  authorizePublish: () => true,
});

export const handler = netlifyV1(hangtime);
