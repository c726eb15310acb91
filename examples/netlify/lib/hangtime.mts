import { createHangtime } from 'hangtime';
import { redisLog } from 'hangtime/redis';

// Module scope: a warm function instance reuses the log and its Redis connections.
const url = process.env.REDIS_URL;
if (url === undefined || url === '') throw new Error('Set REDIS_URL, e.g. rediss://default:password@host:6379');
const log = redisLog({ url });

export const hangtime = createHangtime({ log });

const token = process.env.PUBLISH_TOKEN;

/** hangtime's own publish route: POST {"channel","data"} with `Authorization: Bearer <PUBLISH_TOKEN>`. */
export const publisher = createHangtime({
  log,
  authorizePublish: (request) =>
    token !== undefined && token !== '' && request.headers.get('authorization') === `Bearer ${token}` ? true : { status: 401 },
});
