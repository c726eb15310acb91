import { describeEventLog } from '../conformance/event-log.js';
import { REDIS_URL, describeRedis } from '../support/redis.js';
import { redisSubject } from './subject.js';

/** The Redis log through the shared conformance suite, against the Redis at REDIS_URL, in both
 * waiting modes: the pub/sub watcher, and a blocking XREAD on the command connection. */
for (const waiting of ['shared', 'blocking'] as const) {
  describeRedis(`Redis log conformance (waiting: '${waiting}')`, () => {
    describeEventLog(`redis ${waiting}`, redisSubject({ url: REDIS_URL }, { waiting }), { raceIterations: 1_000, raceEvents: 600 });
  });
}
