import { describeEventLog } from '../conformance/event-log.js';
import { REDIS_URL, describeRedis } from '../support/redis.js';
import { redisSubject } from './subject.js';

/** The Redis log through the shared conformance suite, against the Redis at REDIS_URL. */
describeRedis('Redis log conformance', () => {
  describeEventLog('redis', redisSubject({ url: REDIS_URL }), { raceIterations: 1_000, raceEvents: 600 });
});
