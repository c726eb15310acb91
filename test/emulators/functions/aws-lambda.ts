// The function serverless-offline runs, bundled by esbuild in the suite's setup: a hangtime
// endpoint on the Redis log (polls, and publishes through the same front door), served by
// awsLambda() with a module-scope instance, as in production.
import { awsLambda, type LambdaHttpEvent, type LambdaHttpResult } from '../../../adapters/aws-lambda/index.js';
import { createHangtime } from '../../../src/index.js';
import { redisLog } from '../../../src/redis/index.js';

const hangtime = createHangtime({
  log: redisLog({ url: process.env.REDIS_URL, prefix: process.env.HANGTIME_TEST_PREFIX }),
  authorizePublish: () => true,
});

export const handler = awsLambda(hangtime);

/**
 * The same behind serverless-offline's ALB, whose server turns result headers into arrays and
 * then crashes, the whole emulator with it, on a lower-case `content-type` (hapi reads that one
 * as a string). A real ALB takes header names in any case: the adapter is right and stays as it
 * is; only this emulator's answer is renamed here.
 */
export async function albHandler(event: LambdaHttpEvent, context: { getRemainingTimeInMillis(): number }): Promise<LambdaHttpResult> {
  const result = await handler(event, context);
  return { ...result, headers: contentTypeCased(result.headers), multiValueHeaders: contentTypeCased(result.multiValueHeaders) };
}

function contentTypeCased<T>(headers: Record<string, T> | undefined): Record<string, T> | undefined {
  if (headers === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase() === 'content-type' ? 'Content-Type' : name, value]),
  );
}

/** Never answers: what the emulator does when a function overruns its timeout. */
export function overrun(): Promise<never> {
  return new Promise<never>(() => {});
}
