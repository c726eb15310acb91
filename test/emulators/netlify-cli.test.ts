// hangtime/client through netlify-cli's `netlify functions:serve --offline`, against the Redis log,
// with a concurrent publisher: Functions v1 (Lambda-style) and v2 (Request/Response). See
// docs/platforms.md for the quirks.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { freePort } from '../redis/servers.js';
import { adminClient, deletePrefix, REDIS_URL, testPrefix } from '../support/redis.js';
import {
  bundle,
  deliverThrough,
  withOutput,
  describeEmulator,
  NETLIFY,
  projectFolder,
  startEmulator,
  waitForFunction,
  type Emulator,
} from './support.js';

/**
 * netlify-cli's limit for synchronous functions, fixed offline (Netlify's own is 60 s). v1
 * functions read it from their clock; v2 functions get none, so the suite tells the adapter with
 * HANGTIME_TIME_LIMIT_MS, as a user running `netlify dev` must.
 */
const LIMIT_MS = 30_000;

const FUNCTIONS = [
  { name: 'Functions v1', path: '/.netlify/functions/poll-v1', channels: ['v1-a', 'v1-b'], count: 16 },
  // Each v2 call runs in a new worker thread: every poll and publish is a cold start (1.5 to 4 s
  // on a loaded 2-core machine), so fewer events keep the suite short.
  { name: 'Functions v2', path: '/.netlify/functions/poll-v2', channels: ['v2-a', 'v2-b'], count: 6 },
] as const;

describeEmulator('netlify-cli functions:serve --offline: Functions v1 and v2', () => {
  const prefix = testPrefix();
  let project: ReturnType<typeof projectFolder> | undefined;
  let origin = '';
  let emulator: Emulator | undefined;

  beforeAll(async () => {
    project = projectFolder('netlify');
    const functions = join(project.dir, 'functions');
    mkdirSync(functions);
    const source = (name: string) => join(import.meta.dirname, 'functions', name);
    // netlify-cli compiles an ES module v1 function to CommonJS, where `import.meta.url` (which
    // an ES module bundle of ioredis needs) is undefined: v1 is bundled as CommonJS, v2 as ESM.
    await bundle({ 'poll-v1': source('netlify-v1.ts') }, functions, 'cjs');
    await bundle({ 'poll-v2': source('netlify-v2.ts') }, functions);
    // Functions that never answer: what netlify-cli does at its limit.
    writeFileSync(join(functions, 'overrun-v1.mjs'), 'export const handler = () => new Promise(() => {});\n');
    writeFileSync(join(functions, 'overrun-v2.mjs'), 'export default () => new Promise(() => {});\n');
    writeFileSync(join(project.dir, 'netlify.toml'), '[functions]\n  directory = "functions"\n');
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    emulator = await startEmulator(NETLIFY, ['functions:serve', '--offline', '--port', `${port}`], {
      cwd: project.dir,
      env: { REDIS_URL, HANGTIME_TEST_PREFIX: prefix, HANGTIME_TIME_LIMIT_MS: `${LIMIT_MS}`, NETLIFY_TELEMETRY_DISABLED: '1' },
      ready:
        /^(?=[\s\S]*Loaded function poll-v1)(?=[\s\S]*Loaded function poll-v2)(?=[\s\S]*Loaded function overrun-v1)(?=[\s\S]*Loaded function overrun-v2)/,
      timeoutMs: 60_000,
    });
    // A first call per function (a poll without channels, answered 400 at once) to know it is served.
    await Promise.all(FUNCTIONS.map((fn) => waitForFunction(`${origin}${fn.path}`, 30_000)));
  }, 120_000);

  afterAll(async () => {
    await emulator?.stop();
    project?.remove();
    const admin = adminClient();
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  describe.concurrent('hangtime/client through each kind of function', () => {
    it.for(FUNCTIONS)(
      '$name: every event once and in order, published through netlify-cli; every hold ends before the 30 s limit',
      { timeout: 150_000 },
      async (fn, { expect }) => {
        const { events, errors, polls, idleHoldMs, expected } = await withOutput(
          emulator,
          deliverThrough(`${origin}${fn.path}`, {
            channels: fn.channels,
            count: fn.count,
            spreadMs: 2_000,
            limitMs: LIMIT_MS,
            what: fn.name,
          }),
        );
        const context = `${fn.name}; emulator output:\n${emulator?.output().slice(-3_000)}`;
        expect(events, context).toEqual(expected);
        expect(errors, context).toEqual([]);
        expect(
          polls.filter((poll) => !poll.fromHangtime || poll.elapsedMs >= LIMIT_MS),
          context,
        ).toEqual([]);
        // The empty hold lasted until near the 30 s limit (less the 2 s margin and up to 1/16 jitter).
        expect(idleHoldMs, context).toBeGreaterThan(LIMIT_MS / 2);
      },
    );

    it.for(['overrun-v1', 'overrun-v2'])(
      "%s: a function that overruns the 30 s limit gets netlify-cli's own 500",
      { timeout: 90_000 },
      async (name, { expect }) => {
        const started = Date.now();
        const response = await fetch(`${origin}/.netlify/functions/${name}`, { signal: AbortSignal.timeout(60_000) });
        const body = await response.text();
        expect(Date.now() - started).toBeGreaterThanOrEqual(LIMIT_MS - 1_000);
        expect(response.status, body).toBe(500);
      },
    );
  });
});
