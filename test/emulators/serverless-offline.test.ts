// hangtime/client through serverless-offline 13 (serverless 3), against the Redis log, with a
// concurrent publisher: API Gateway REST (payload 1.0), HTTP API (2.0) and ALB, each a real
// HTTP server with the function timeout enforced. See docs/platforms.md for the quirks.
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { freePort } from '../redis/servers.js';
import { adminClient, deletePrefix, REDIS_URL, testPrefix } from '../support/redis.js';
import {
  bundle,
  deliverThrough,
  withOutput,
  describeEmulator,
  projectFolder,
  SERVERLESS,
  startEmulator,
  TOOLS,
  type Emulator,
} from './support.js';

/**
 * The functions' timeout, in seconds: holds must end before it (the adapter reads it from the
 * Lambda clock). serverless-offline counts a worker's cold start (a new thread importing the
 * bundle) against it, where Lambda gives the init phase its own budget: on a loaded 2-core
 * machine that can take seconds, hence 8 s and the warm-up below.
 */
const TIMEOUT_S = 8;
const LIMIT_MS = TIMEOUT_S * 1_000;

const DOORS = [
  { name: 'API Gateway REST', path: '/rest/poll', server: 'http', channels: ['rest-a', 'rest-b'] },
  // serverless-offline's HTTP API sends both `cookies[]` and a `cookie` header (API Gateway sends
  // only `cookies[]`), and joins repeated headers by keeping the last value.
  { name: 'HTTP API', path: '/httpapi/poll', server: 'http', channels: ['httpapi-a', 'httpapi-b'] },
  // Its ALB passes query values decoded (a real ALB leaves them as sent) and bodies as latin1
  // text with `isBase64Encoded: false`: the events published here are ASCII JSON.
  { name: 'ALB', path: '/alb/poll', server: 'alb', channels: ['alb-a', 'alb-b'] },
] as const;

/**
 * What the emulator answers when a function overruns its timeout. REST answers 504 as API
 * Gateway does; its HTTP API answers 200 with an error body where API Gateway answers 503, and
 * its ALB 504 where an ALB answers 502. So "no timeout" below means a 200 *from hangtime*.
 */
const OVERRUNS = [
  { name: 'API Gateway REST', path: '/overrun/rest', server: 'http', status: 504 },
  { name: 'HTTP API', path: '/overrun/httpapi', server: 'http', status: 200 },
  { name: 'ALB', path: '/overrun/alb', server: 'alb', status: 504 },
] as const;

function serverlessYml(prefix: string): string {
  const alb = (priority: number, path: string) => `
      - alb:
          listenerArn: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/hangtime/50dc6c495c0c9188/f2f7dc8efc522ab2
          priority: ${priority}
          conditions:
            path: ${path}`;
  return `service: hangtime-e2e
frameworkVersion: '3'
provider:
  name: aws
  runtime: nodejs20.x
  region: us-east-1
  timeout: ${TIMEOUT_S}
  environment:
    REDIS_URL: ${REDIS_URL}
    HANGTIME_TEST_PREFIX: ${prefix}
    # A loaded 2-core test machine can stall a worker thread for a while; the default 1 s margin
    # is for a Lambda that has its CPU to itself.
    HANGTIME_SAFETY_MARGIN_MS: '2000'
plugins:
  - serverless-offline
functions:
  rest:
    handler: functions.handler
    events:
      - http: { path: rest/poll, method: any }
  httpapi:
    handler: functions.handler
    events:
      - httpApi: { path: /httpapi/poll, method: '*' }
  alb:
    handler: functions.albHandler
    events:${alb(1, '/alb/poll')}
  overrunRest:
    handler: functions.overrun
    timeout: 2
    events:
      - http: { path: overrun/rest, method: get }
  overrunHttpApi:
    handler: functions.overrun
    timeout: 2
    events:
      - httpApi: { path: /overrun/httpapi, method: get }
  overrunAlb:
    handler: functions.overrun
    timeout: 2
    events:${alb(2, '/overrun/alb')}
`;
}

describeEmulator('serverless-offline 13 (serverless 3): API Gateway REST, HTTP API and ALB', () => {
  const prefix = testPrefix();
  let project: ReturnType<typeof projectFolder> | undefined;
  const origins = { http: '', alb: '' };
  let emulator: Emulator | undefined;

  beforeAll(async () => {
    project = projectFolder('serverless');
    await bundle({ functions: join(import.meta.dirname, 'functions', 'aws-lambda.ts') }, project.dir);
    // Serverless loads the plugin from the project's node_modules.
    symlinkSync(TOOLS, join(project.dir, 'node_modules'), 'dir');
    writeFileSync(join(project.dir, 'serverless.yml'), serverlessYml(prefix));
    const ports = new Set<number>();
    while (ports.size < 3) ports.add(await freePort());
    const [http, lambda, alb] = [...ports];
    origins.http = `http://127.0.0.1:${http}`;
    origins.alb = `http://127.0.0.1:${alb}`;
    emulator = await startEmulator(
      SERVERLESS,
      [
        'offline',
        '--noPrependStageInUrl',
        '--host',
        '127.0.0.1',
        '--httpPort',
        `${http}`,
        '--lambdaPort',
        `${lambda}`,
        '--albPort',
        `${alb}`,
      ],
      {
        cwd: project.dir,
        env: { SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
        ready: /^(?=[\s\S]*ALB Server ready)(?=[\s\S]*\nServer ready)/,
        timeoutMs: 60_000,
      },
    );
    // Two polls held at once per front door start two warm workers: the subscriber's poll and
    // the publisher's POST each find one, as on a warm Lambda.
    const warmUp = (url: string) =>
      fetch(`${url}?channels=warm-up&wait=2`, { signal: AbortSignal.timeout(60_000) }).then((r) => r.arrayBuffer());
    await Promise.all(
      DOORS.flatMap((door) => [warmUp(`${origins[door.server]}${door.path}`), warmUp(`${origins[door.server]}${door.path}`)]),
    );
  }, 120_000);

  afterAll(async () => {
    await emulator?.stop();
    project?.remove();
    const admin = adminClient();
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  describe.concurrent('hangtime/client through each front door', () => {
    it.for(DOORS)(
      '$name: every event once and in order, published through the emulator; every hold ends before the timeout',
      { timeout: 120_000 },
      async (door, { expect }) => {
        const { events, errors, polls, idleHoldMs, expected } = await withOutput(
          emulator,
          deliverThrough(`${origins[door.server]}${door.path}`, {
            channels: door.channels,
            count: 40,
            spreadMs: 5_000,
            limitMs: LIMIT_MS,
            what: door.name,
          }),
        );
        const context = `${door.name}; emulator output:\n${emulator?.output().slice(-3_000)}`;
        expect(events, context).toEqual(expected);
        expect(errors, context).toEqual([]);
        // Every answer is hangtime's own 200, within the function's limit: no emulator timeout.
        expect(
          polls.filter((poll) => !poll.fromHangtime || poll.elapsedMs >= LIMIT_MS),
          context,
        ).toEqual([]);
        // And the empty hold lasted until near the deadline: the adapter read the function's clock.
        expect(idleHoldMs, context).toBeGreaterThan(LIMIT_MS / 3);
      },
    );

    it.for(OVERRUNS)(
      "$name: a function that overruns its timeout gets the emulator's $status",
      { timeout: 60_000 },
      async (overrun, { expect }) => {
        const response = await fetch(`${origins[overrun.server]}${overrun.path}`, { signal: AbortSignal.timeout(30_000) });
        const body = await response.text();
        expect(response.status, body).toBe(overrun.status);
        expect(body).not.toMatch(/"cursor"/);
      },
    );
  });
});
