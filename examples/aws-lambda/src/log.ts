import { redisLog } from 'hangtime/redis';

// Created when the container starts, not per invocation: warm invocations reuse the connections.
const url = process.env.REDIS_URL;
if (url === undefined || url === '') throw new Error('Set REDIS_URL, e.g. rediss://default:password@host:6379');

export const log = redisLog({ url });
