import { createHangtime, memoryLog, type EventLog } from 'hangtime';
import { redisLog } from 'hangtime/redis';

/**
 * Redis when `REDIS_URL` is set. Without it:
 * - `next build` loads this module to collect the routes' config, and serves nothing: no secret
 *   is needed to build, so it gets a memory log it never uses;
 * - `next dev` uses the in-memory log (one process: fine on your machine) and says so;
 * - a production server fails at its first request, naming the variable: function instances
 *   that each kept their own memory log would never see each other's events.
 */
function createLog(): EventLog {
  const url = process.env.REDIS_URL;
  if (url !== undefined && url !== '') return redisLog({ url });
  if (process.env.NEXT_PHASE === 'phase-production-build') return memoryLog();
  if (process.env.NODE_ENV === 'development') {
    console.warn(
      'hangtime: REDIS_URL is not set, so events live in this process only (the in-memory log). Set REDIS_URL in .env.local to use Redis.',
    );
    return memoryLog();
  }
  throw new Error('Set REDIS_URL, e.g. rediss://default:password@host:6379: in production every function instance must share one Redis');
}

// Module scope: with Fluid compute one instance serves many invocations, and all of them share
// this log and its few Redis connections.
const log = createLog();

export const hangtime = createHangtime({ log });

const token = process.env.PUBLISH_TOKEN;

/** hangtime's own publish route: POST {"channel","data"} with `Authorization: Bearer <PUBLISH_TOKEN>`. */
export const publisher = createHangtime({
  log,
  authorizePublish: (request) =>
    token !== undefined && token !== '' && request.headers.get('authorization') === `Bearer ${token}` ? true : { status: 401 },
});
