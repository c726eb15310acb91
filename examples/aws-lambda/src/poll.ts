import { createHangtime } from 'hangtime';
import { awsLambda } from 'hangtime/aws-lambda';
import { grip } from './grip.js';
import { log } from './log.js';

const hangtime = createHangtime({ log, grip });

// Naming the front door makes the adapter check its limits at startup (30 s, 6 MB) and refuse
// events from any other. Holds end a safety margin before the sooner of the function's timeout
// and the HTTP API's 30 s.
export const handler = awsLambda(hangtime, { frontDoor: 'http-api' });
