// One emulated Lambda execution environment: a worker thread with its own module state and
// its own Redis connections, running the real `hangtime/aws-lambda` handler built from dist/,
// one invocation at a time (the front door never sends a second before the first answered).
// Module-level code runs once per instance, as a Lambda's init phase does; the handler is
// warm for the invocations that follow.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const dist = (entry) => import(pathToFileURL(join(workerData.dist, `${entry}.js`)).href);
const { createHangtime } = await dist('index');
const { redisLog } = await dist('redis');
const { awsLambda } = await dist('aws-lambda');

const log = redisLog({
  url: workerData.redisUrl,
  waiting: workerData.waiting,
  onError: (error) => parentPort.postMessage({ type: 'error', message: String(error?.message ?? error) }),
});
const hangtime = createHangtime({ log, maxWaitMs: workerData.maxWaitMs, authorizePublish: () => true });
export const handler = awsLambda(hangtime, { frontDoor: workerData.frontDoor });

parentPort.on('message', async (message) => {
  if (message.type === 'close') {
    await log.close();
    parentPort.postMessage({ type: 'closed' });
    return;
  }
  if (message.type !== 'invoke') return;
  const startedAt = performance.now();
  // This thread's active (non-idle) event-loop time: what an active-CPU meter would bill.
  const elu = performance.eventLoopUtilization();
  const deadline = Date.now() + workerData.functionTimeoutMs;
  const context = {
    awsRequestId: message.id,
    functionName: 'hangtime-bench',
    // The real thing: the function's timeout minus what the invocation used so far.
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  let result;
  try {
    result = await handler(message.event, context);
  } catch (error) {
    result = { statusCode: 500, body: String(error?.message ?? error) };
  }
  const activeMs = performance.eventLoopUtilization(elu).active;
  parentPort.postMessage({ type: 'result', id: message.id, result, durationMs: performance.now() - startedAt, activeMs });
});

parentPort.postMessage({ type: 'ready' });
