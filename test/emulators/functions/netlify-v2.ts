// The Netlify Functions v2 function netlify-cli runs, bundled by esbuild in the suite's setup.
// netlify-cli runs each v2 invocation in a new worker thread that lives on while it has open
// handles: a module-scope Redis log (right on Netlify, where warm invocations reuse it) would
// keep one thread and its connections alive per call. Here each call has its own log, closed
// once the answer is made; the adapter is used as on Netlify. The local limit is 30 s and v2
// functions get no clock: the suite sets HANGTIME_TIME_LIMIT_MS=30000.
import { netlify } from '../../../adapters/netlify/index.js';
import { createHangtime } from '../../../src/index.js';
import { redisLog } from '../../../src/redis/index.js';

export default async function poll(request: Request, context: unknown): Promise<Response> {
  const log = redisLog({ url: process.env.REDIS_URL, prefix: process.env.HANGTIME_TEST_PREFIX });
  try {
    return await netlify(createHangtime({ log, authorizePublish: () => true }))(request, context);
  } finally {
    await log.close();
  }
}
