import { createHangtime } from 'hangtime';
import { awsLambda } from 'hangtime/aws-lambda';
import { grip } from './grip.js';
import { log } from './log.js';

const token = process.env.PUBLISH_TOKEN;

// hangtime's own publish route: POST {"channel","data"}, answered 201 with the position, 413 for
// an event larger than the log accepts. Any backend code can also call log.append() directly.
const publisher = createHangtime({
  log,
  grip,
  authorizePublish: (request) =>
    token !== undefined && token !== '' && request.headers.get('authorization') === `Bearer ${token}` ? true : { status: 401 },
});

export const handler = awsLambda(publisher, { frontDoor: 'http-api' });
