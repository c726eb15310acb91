import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { awsLambda } from '../../adapters/aws-lambda/index.js';
import { netlify, netlifyV1, type NetlifyV1Event } from '../../adapters/netlify/index.js';
import { serve, toNodeListener, type NodeServer } from '../../adapters/node/index.js';
import { vercel } from '../../adapters/vercel/index.js';
import { vercelNode } from '../../adapters/vercel/node.js';
import { redisLog } from '../../src/redis/index.js';
import {
  createHangtime,
  memoryLog,
  type EventLog,
  type HandlerContext,
  type Hangtime,
  type HangtimeRequest,
  type PlainResponse,
} from '../../src/index.js';
import type { Replier } from '../../src/hangtime.js';
import { fixture } from '../adapters/support.js';
import { until } from './support.js';
import { REDIS_URL, adminClient, deletePrefix, describeRedis, testPrefix } from '../support/redis.js';

// Which path a poll takes, and that the other one works too (issue 10: no hidden doors).
// - A log with `startKnown` gives a new client's start without a promise when it knows it;
//   otherwise (or for a log without it) `start` is asked.
// - A log with `waitInto` reports to the hold's sink, with no promise per wait; any other log
//   (a custom one, or a wrapper that drops the method) is waited on through `waitFor`.
// - hangtime/node passes a replier to `respond` and gets its answer through it; the other
//   adapters use `respond`'s promise. A copy or wrapper of the instance keeps working either way.

type Path = 'waitInto' | 'waitFor';

/** `log` as a plain-object copy (`{ ...log }`) that records which wait the hold calls. */
function recording(log: EventLog, paths: Path[], keepWaitInto = true): EventLog {
  const copy: EventLog = {
    ...log,
    waitFor: (targets, signal) => {
      paths.push('waitFor');
      return log.waitFor(targets, signal);
    },
    waitInto: undefined,
  };
  if (keepWaitInto && log.waitInto !== undefined) {
    const waitInto = log.waitInto.bind(log);
    return { ...copy, waitInto: (targets, signal, sink) => (paths.push('waitInto'), waitInto(targets, signal, sink)) };
  }
  return copy;
}

/** A poll that waits for the next event on `chat` and gets it. */
async function pollOnce(log: EventLog): Promise<unknown[]> {
  const hangtime = createHangtime({ log });
  const { cursor } = await hangtime.wait({ channels: ['chat'], waitMs: 0 });
  const held = hangtime.wait({ channels: ['chat'], cursor, waitMs: 20_000 });
  await new Promise((resolve) => setTimeout(resolve, 20));
  await log.append('chat', { n: 1 });
  const result = await held;
  expect(result.reason).toBe('events');
  return result.events.map((event) => event.data);
}

describe('the log path', () => {
  it('memoryLog: the hold waits through waitInto (a sink), also on a { ...log } copy', async () => {
    const paths: Path[] = [];
    expect(await pollOnce(recording(memoryLog(), paths))).toEqual([{ n: 1 }]);
    expect(paths).toContain('waitInto');
    expect(paths).not.toContain('waitFor');
  });

  it('a custom log without waitInto: the hold waits through waitFor (a promise) and delivers the same', async () => {
    const paths: Path[] = [];
    expect(await pollOnce(recording(memoryLog(), paths, false))).toEqual([{ n: 1 }]);
    expect(paths).toContain('waitFor');
    expect(paths).not.toContain('waitInto');
  });
});

type StartPath = 'startKnown' | 'start';

/** `log` as a copy that records how a first poll's start is found. */
function recordingStarts(log: EventLog, paths: StartPath[]): EventLog {
  const startKnown = log.startKnown?.bind(log);
  return {
    ...log,
    start: (channel, from) => (paths.push('start'), log.start(channel, from)),
    startKnown:
      startKnown === undefined
        ? undefined
        : (channel, from) => {
            const position = startKnown(channel, from);
            // Not known: `start` is asked next, and records itself.
            if (position !== undefined) paths.push('startKnown');
            return position;
          },
  };
}

describe('the start path', () => {
  it('memoryLog: a first poll starts from startKnown, without start, and holds at once', async () => {
    const paths: StartPath[] = [];
    const log = memoryLog();
    await log.append('chat', { n: 0 });
    const hangtime = createHangtime({ log: recordingStarts(log, paths) });
    const answers: PlainResponse[] = [];
    const request = { method: 'GET', url: '/poll?channels=chat', headers: { get: () => null } };
    hangtime.respond(request, {}, { reply: (answer) => answers.push(answer) });
    // Held before respond() returned: no promise between the request and the log's wait.
    expect(log.stats().waiters).toBe(1);
    expect(paths).toEqual(['startKnown']);
    await log.append('chat', { n: 1 });
    await until(() => answers.length === 1);
    expect(JSON.parse(answers[0]!.body).events.map((e: { data: unknown }) => e.data)).toEqual([{ n: 1 }]);
    await hangtime.close();
  });

  it('a log without startKnown (or one that does not know) is asked through start, and delivers the same', async () => {
    const paths: StartPath[] = [];
    const log = memoryLog();
    await log.append('chat', { n: 0 });
    const hangtime = createHangtime({ log: { ...recordingStarts(log, paths), startKnown: undefined } });
    const held = hangtime.wait({ channels: ['chat'], waitMs: 20_000 });
    await until(() => log.stats().waiters === 1);
    await log.append('chat', { n: 1 });
    expect((await held).events.map((event) => event.data)).toEqual([{ n: 1 }]);
    expect(paths).toEqual(['start']);
  });

  it('polls that start at the same positions share them: one map, one set of wait targets', async () => {
    const log = memoryLog();
    await log.append('chat', { n: 0 });
    const seen = new Set<unknown>();
    const hangtime = createHangtime({
      log: { ...log, waitInto: (targets, signal, sink) => (seen.add(targets), log.waitInto!(targets, signal, sink)) },
    });
    const polls = Array.from({ length: 5 }, () => hangtime.wait({ channels: ['chat'], waitMs: 20_000 }));
    await until(() => log.stats().waiters === 5);
    expect(seen.size).toBe(1);
    await log.append('chat', { n: 1 });
    for (const poll of await Promise.all(polls)) expect(poll.events.map((event) => event.data)).toEqual([{ n: 1 }]);
  });
});

describeRedis('the log path (Redis)', () => {
  const prefix = testPrefix();
  afterEach(async () => {
    const admin = adminClient();
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  it('redisLog: a first poll on a channel the process watches starts from startKnown; on another, through start', async () => {
    // `shared`: holds wait on the process's subscription (the watcher), which knows the head.
    const log = redisLog({ url: REDIS_URL, prefix, waiting: 'shared' });
    try {
      const paths: StartPath[] = [];
      const hangtime = createHangtime({ log: recordingStarts(log, paths) });
      await log.append('chat', { n: 0 });
      const first = hangtime.wait({ channels: ['chat'], waitMs: 20_000 });
      await until(() => hangtime.stats().waiting === 1);
      // The first poll's wait subscribes to `chat`; once its check has come back, the head is known.
      await until(() => log.startKnown!('chat', 'now') !== undefined);
      const second = hangtime.wait({ channels: ['chat'], waitMs: 20_000 });
      await until(() => hangtime.stats().waiting === 2);
      await log.append('chat', { n: 1 });
      for (const poll of await Promise.all([first, second])) expect(poll.events.map((event) => event.data)).toEqual([{ n: 1 }]);
      expect(paths).toEqual(['start', 'startKnown']);
    } finally {
      await log.close();
    }
  });

  it('redisLog: the hold waits through waitInto (a sink)', async () => {
    const log = redisLog({ url: REDIS_URL, prefix });
    try {
      const paths: Path[] = [];
      expect(await pollOnce(recording(log, paths))).toEqual([{ n: 1 }]);
      expect(paths).toContain('waitInto');
      expect(paths).not.toContain('waitFor');
    } finally {
      await log.close();
    }
  });
});

type RespondPath = 'replier' | 'promise' | 'web handler';

/** A copy of `hangtime` whose `respond` records whether it was given a replier, and whose
 * `handler` (Request in, Response out) records its calls. */
function recordingRespond(hangtime: Hangtime, paths: RespondPath[]): Hangtime {
  function respond(request: HangtimeRequest, context?: HandlerContext): Promise<PlainResponse>;
  function respond(request: HangtimeRequest, context: HandlerContext, replier: Replier): Promise<PlainResponse> | undefined;
  function respond(request: HangtimeRequest, context?: HandlerContext, replier?: Replier): Promise<PlainResponse> | undefined {
    paths.push(replier === undefined ? 'promise' : 'replier');
    return replier === undefined ? hangtime.respond(request, context) : hangtime.respond(request, context ?? {}, replier);
  }
  const handler: Hangtime['handler'] = (request, context) => {
    paths.push('web handler');
    return hangtime.handler(request, context);
  };
  return { ...hangtime, respond, handler };
}

describe('the adapter path', () => {
  let server: NodeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const query = 'channels=chat&wait=0';

  it('hangtime/node answers through a replier', async () => {
    const paths: RespondPath[] = [];
    server = await serve(recordingRespond(createHangtime(), paths), { port: 0 });
    const response = await fetch(`${server.url}/?${query}`);
    expect(response.status).toBe(200);
    expect(paths).toEqual(['replier']);
  });

  it('hangtime/node with a wrapper that ignores the replier answers through its promise', async () => {
    const hangtime = createHangtime({ maxWaitMs: 1_000 });
    const wrapper = { respond: (request: HangtimeRequest, context?: HandlerContext) => hangtime.respond(request, context) };
    server = await serve(wrapper, { port: 0 });
    const response = await fetch(`${server.url}/?${query}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ events: [], more: false });
  });

  it('hangtime/vercel and hangtime/netlify (v2) use the Web handler; netlify v1 and hangtime/aws-lambda the promise of respond', async () => {
    const paths: RespondPath[] = [];
    const target = recordingRespond(createHangtime(), paths);
    expect((await vercel(target, { maxDuration: 30 })(new Request(`https://example.com/api/poll?${query}`))).status).toBe(200);
    expect((await netlify(target)(new Request(`https://example.com/api/poll?${query}`))).status).toBe(200);
    const v1 = fixture<NetlifyV1Event>('netlify-v1', (event) => {
      event.rawQuery = query;
      event.queryStringParameters = {};
      event.multiValueQueryStringParameters = {};
    });
    expect((await netlifyV1(target)(v1)).statusCode).toBe(200);
    const v2 = fixture<Parameters<ReturnType<typeof awsLambda>>[0]>('http-api-v2', (event) => (event.rawQueryString = query));
    expect((await awsLambda(target)(v2)).statusCode).toBe(200);
    expect(paths).toEqual(['web handler', 'web handler', 'promise', 'promise']);
  });

  it('hangtime/vercel/node goes through hangtime/node with a deadline wrapper: the promise', async () => {
    const paths: RespondPath[] = [];
    const handler = vercelNode(recordingRespond(createHangtime(), paths), { maxDuration: 30 });
    const plain = createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = plain.address() as { port: number };
      expect((await fetch(`http://127.0.0.1:${port}/api/poll?${query}`)).status).toBe(200);
    } finally {
      plain.closeAllConnections();
      await new Promise((resolve) => plain.close(resolve));
    }
    expect(paths).toEqual(['promise']);
  });
});

describe('options of hangtime/node', () => {
  it('catches unknown option names, in the style of every other option check', () => {
    const hangtime = createHangtime();
    expect(() => toNodeListener(hangtime, { timelimitMs: 5 } as never)).toThrow(
      new TypeError('Unknown option `timelimitMs` for toNodeListener(); expected one of: timeLimitMs, maxBodyBytes, onError'),
    );
    expect(() => toNodeListener(hangtime, null as never)).toThrow(
      new TypeError('Expected toNodeListener() options to be an object, got null'),
    );
    expect(() => toNodeListener(hangtime, { onError: 'log' } as never)).toThrow(
      new TypeError('Expected `onError` to be a function, got "log"'),
    );
    expect(() => toNodeListener(hangtime, { maxBodyBytes: 1.5 })).toThrow(
      new TypeError('Expected `maxBodyBytes` to be a positive integer, got 1.5'),
    );
  });

  it('serve() catches them too, before it listens', async () => {
    await expect(serve(createHangtime(), { prot: 0 } as never)).rejects.toThrow(
      /^Unknown option `prot` for serve\(\); expected one of: port, hostname, timeLimitMs/,
    );
  });

  it('CORS options are checked by the same helper, named under `cors.`', () => {
    expect(() => createHangtime({ cors: { origins: '*' } } as never)).toThrow(
      new TypeError(
        'Unknown option `cors.origins` for createHangtime(); expected one of: cors.origin, cors.credentials, cors.maxAgeSeconds',
      ),
    );
  });
});
