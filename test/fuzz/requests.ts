import type { Random } from './prng.js';
import type { FuzzRequest } from './transport.js';

/**
 * Fuzzed requests: real ones first (polls with the cursors the server really gave, publishes of
 * random JSON), then mutated at every layer: the query (bytes flipped, truncated, repeated and
 * unknown parameters, percent-encoding good and bad, unicode, numbers at their edges), the
 * headers (odd methods, Prefer, content types, lying or doubled lengths, huge and latin-1
 * values), the body (bytes flipped, truncated, deeply nested, huge, chunked over the limit).
 */

/** What the fuzzer has learnt from the server so far. */
export class FuzzState {
  readonly cursors: string[] = [];

  constructor(
    /** Valid channel names the fuzzer polls and publishes to. */
    readonly channels: readonly string[],
    /** Cursors of another server (another log, another generation). */
    readonly foreignCursors: readonly string[],
  ) {}

  addCursor(cursor: string): void {
    if (this.cursors.length >= 64) this.cursors.splice(0, 1);
    this.cursors.push(cursor);
  }
}

/** A request, and whether it is unmutated (then its answer is known exactly). */
export interface Generated {
  readonly request: FuzzRequest;
  /** `poll`: 200, or 410 when the cursor fell behind retention; `publish`: 201. */
  readonly valid?: 'poll' | 'publish';
}

/** Limits of the fuzzed servers that the generators aim just above and below. */
export interface Limits {
  readonly maxEventBytes: number;
  readonly maxBodyBytes: number;
  readonly maxChannels: number;
  readonly maxEvents: number;
}

export function generate(random: Random, state: FuzzState, limits: Limits): Generated {
  const roll = random.next();
  if (roll < 0.22) return { request: validPoll(random, state, limits), valid: 'poll' };
  if (roll < 0.3) return { request: validPublish(random, state, limits), valid: 'publish' };
  const base = random.chance(0.55) ? validPoll(random, state, limits) : validPublish(random, state, limits);
  let request = base;
  const count = random.weighted([
    [6, 1],
    [3, 2],
    [1, 3],
  ] as const);
  for (let i = 0; i < count; i++) request = mutate(random, request, limits);
  return { request };
}

// ---------------------------------------------------------------------------------------------
// Real requests

export function validPoll(random: Random, state: FuzzState, limits: Limits): FuzzRequest {
  const parts: string[] = [];
  const channels = random.chance(0.8) ? [random.pick(state.channels)] : pickSome(random, state.channels, random.between(2, 4));
  parts.push(`channels=${channels.join(',')}`);
  if (state.cursors.length > 0 && random.chance(0.75)) parts.push(`cursor=${random.pick(state.cursors)}`);
  // Mostly answered at once: a fuzzer does not wait on holds (a few short ones keep the hold path in).
  parts.push(
    `wait=${random.weighted([
      [20, '0'],
      [1, '0.05'],
      [1, '0.2'],
    ] as const)}`,
  );
  if (random.chance(0.3)) parts.push(`limit=${random.between(1, limits.maxEvents)}`);
  if (random.chance(0.3)) parts.push(`from=${random.pick(['now', 'oldest'])}`);
  return { label: 'poll', method: 'GET', target: `/poll?${shuffle(random, parts).join('&')}`, headers: [] };
}

export function validPublish(random: Random, state: FuzzState, limits: Limits): FuzzRequest {
  const body = JSON.stringify({
    channel: random.pick(state.channels),
    data: randomJson(random, 0, random.chance(0.05) ? limits.maxEventBytes / 4 : 200),
  });
  return { label: 'publish', method: 'POST', target: '/poll', headers: [['Content-Type', 'application/json']], body: Buffer.from(body) };
}

/** A poll with a foreign cursor: another server's (a gap, or a cursor this log cannot read). */
export function foreignPoll(random: Random, state: FuzzState): FuzzRequest {
  return {
    label: 'poll-foreign-cursor',
    method: 'GET',
    target: `/poll?channels=${random.pick(state.channels)}&wait=0&cursor=${random.pick(state.foreignCursors)}`,
    headers: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Mutations

type Mutation = (random: Random, request: FuzzRequest, limits: Limits) => FuzzRequest;

const relabel = (request: FuzzRequest, name: string, changes: Partial<FuzzRequest>): FuzzRequest => ({
  ...request,
  ...changes,
  label: `${request.label}>${name}`,
});

const _query = (request: FuzzRequest): string => request.target.slice(request.target.indexOf('?') + 1);

const setTarget = (request: FuzzRequest, name: string, target: string): FuzzRequest => relabel(request, name, { target });

const BAD_ESCAPES = [
  '%',
  '%z',
  '%zz',
  '%0',
  '%00',
  '%ff',
  '%c0%af',
  '%ed%a0%80',
  '%e2%82',
  '%2C',
  '%2c%2C',
  '%25',
  '%0d%0a',
  '%f0%9f%98%80',
  '%uD83D',
];
const ODD_NUMBERS = [
  '-1',
  '-0',
  '0x10',
  '1e3',
  '1e400',
  'NaN',
  'Infinity',
  '25.0000',
  '999999',
  '9999999',
  '0.0001',
  '.5',
  '5.',
  '00',
  '1_000',
  ' 1',
  '１',
  '٣',
  '',
  '18446744073709551616',
];
const METHODS = [
  'PUT',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
  'MKCOL',
  'LOCK',
  'SEARCH',
  'PURGE',
  'get',
  'Post',
  'FOO',
  'G-E-T',
  'CONNECT',
];
const UNICODE = ['é', 'ü', '日本', '😀', '\u0000', '\u202e', '\ufeff', '\ud800', 'Ω', '\u00a0', '\u2028'];
const PATHS = [
  '/',
  '/poll/',
  '//poll',
  '/x/y/z',
  '/poll;x=1',
  '/%2e%2e/poll',
  '/poll%3Fchannels=a',
  '*',
  'http://example.com/poll',
  'poll',
  '/poll#frag',
];

const MUTATIONS: ReadonlyArray<readonly [number, string, Mutation]> = [
  [
    6,
    'flip-byte',
    (random, request) => {
      const bytes = Buffer.from(request.target, 'latin1');
      const at = random.between(Math.min(bytes.length - 1, request.target.indexOf('?') + 1), bytes.length - 1);
      bytes[at] = random.int(256);
      return setTarget(request, 'flip-byte', bytes.toString('latin1'));
    },
  ],
  [4, 'truncate', (random, request) => setTarget(request, 'truncate', request.target.slice(0, random.between(1, request.target.length)))],
  [
    4,
    'cursor-edit',
    (random, request) => {
      const match = /cursor=([^&]*)/.exec(request.target);
      if (match === null)
        return setTarget(request, 'cursor-edit', `${request.target}&cursor=${randomAscii(random, random.between(1, 60))}`);
      const cursor = match[1]!;
      const edits = [
        () => cursor.slice(0, random.int(cursor.length)),
        () => cursor.slice(0, -1),
        () => `${cursor}${random.pick(['=', '==', 'A', '.', '.0', '..', '%3D'])}`,
        () => swapChar(random, cursor),
        () => cursor.split('.').reverse().join('.'),
        () => cursor.replace('.', ''),
        () => `${cursor}.${cursor}`,
        () => cursor.toUpperCase(),
      ];
      return setTarget(request, 'cursor-edit', request.target.replace(match[0], `cursor=${random.pick(edits)()}`));
    },
  ],
  [
    3,
    'repeat-param',
    (random, request) => {
      const name = random.pick(['channels', 'cursor', 'wait', 'limit', 'from']);
      const value = /(?:^|[?&])([^=&]*)=([^&]*)/.exec(request.target)?.[2] ?? 'x';
      return setTarget(request, 'repeat-param', `${request.target}&${name}=${random.chance(0.5) ? value : randomAscii(random, 5)}`);
    },
  ],
  [
    3,
    'unknown-param',
    (random, request) =>
      setTarget(
        request,
        'unknown-param',
        `${request.target}${request.target.includes('?') ? '&' : '?'}${random.pick(['Channels', 'channel', 'cursors', 'timeout', '__proto__', 'constructor', 'wait[]', '', '=', 'a=b=c', randomAscii(random, 8)])}=${randomAscii(random, 4)}`,
      ),
  ],
  [
    3,
    'empty-param',
    (random, request) =>
      setTarget(
        request,
        'empty-param',
        `${request.target}${request.target.includes('?') ? '&' : '?'}${random.pick(['channels=', 'cursor=', 'wait=', 'limit=', 'from=', 'channels', '&&&', '&=', 'channels=,', 'channels=a,,b', 'channels=,a'])}`,
      ),
  ],
  [
    3,
    'percent-encode',
    (random, request) => {
      const at = request.target.indexOf('?') + 1;
      let out = request.target.slice(0, at);
      for (const char of request.target.slice(at))
        out += random.chance(0.3) ? `%${char.charCodeAt(0).toString(16).padStart(2, '0')}` : char;
      return setTarget(request, 'percent-encode', out);
    },
  ],
  [
    3,
    'bad-percent',
    (random, request) =>
      setTarget(request, 'bad-percent', insertAt(random, request.target, random.pick(BAD_ESCAPES), request.target.indexOf('?') + 1)),
  ],
  [
    3,
    'unicode',
    (random, request) => {
      const text = random.pick(UNICODE);
      const encoded = random.chance(0.5)
        ? encodeURIComponent(text.replace(/[\ud800-\udfff]/g, 'x'))
        : Buffer.from(text, 'utf8').toString('latin1');
      return setTarget(request, 'unicode', insertAt(random, request.target, encoded, request.target.indexOf('?') + 1));
    },
  ],
  [
    2,
    'plus-space',
    (random, request) =>
      setTarget(
        request,
        'plus-space',
        insertAt(random, request.target, random.pick(['+', ' ', '\t', '+++', '%20']), request.target.indexOf('?') + 1),
      ),
  ],
  [
    2,
    'long-value',
    (random, request) =>
      setTarget(
        request,
        'long-value',
        `${request.target}&${random.pick(['channels', 'cursor', 'wait', 'x'])}=${'a'.repeat(random.pick([200, 2_000, 9_000, 17_000]))}`,
      ),
  ],
  [
    2,
    'many-channels',
    (random, request, limits) => {
      const count = random.pick([limits.maxChannels, limits.maxChannels + 1, 200, 2_000]);
      const names = Array.from({ length: count }, (_, i) => (random.chance(0.1) ? 'dup' : `c${i}`));
      return setTarget(request, 'many-channels', `/poll?channels=${names.join(',')}&wait=0`);
    },
  ],
  [
    3,
    'odd-number',
    (random, request, limits) => {
      const name = random.pick(['wait', 'limit']);
      const value = random.chance(0.3)
        ? String(random.pick([0, 1, limits.maxEvents, limits.maxEvents + 1, 25, 26, 86_400]))
        : random.pick(ODD_NUMBERS);
      const target = new RegExp(`${name}=[^&]*`).test(request.target)
        ? request.target.replace(new RegExp(`${name}=[^&]*`), `${name}=${value}`)
        : `${request.target}&${name}=${value}`;
      return setTarget(request, 'odd-number', target);
    },
  ],
  [
    2,
    'odd-from',
    (random, request) =>
      setTarget(
        request,
        'odd-from',
        `${request.target.replace(/&?from=[^&]*/, '')}&from=${random.pick(['OLDEST', 'now ', '', 'newest', 'oldest,now', '0'])}`,
      ),
  ],
  [
    2,
    'path',
    (random, request) =>
      setTarget(
        request,
        'path',
        `${random.pick(PATHS)}${request.target.includes('?') ? request.target.slice(request.target.indexOf('?')) : ''}`,
      ),
  ],
  [3, 'method', (random, request) => relabel(request, `method:${random.pick(METHODS)}`, { method: random.pick(METHODS) })],
  [
    3,
    'prefer',
    (random, request) =>
      relabel(request, 'prefer', {
        headers: [
          ...request.headers,
          [
            'Prefer',
            random.pick([
              'wait=0',
              'wait=1',
              'wait=99999999',
              'wait=abc',
              'wait=-1',
              'respond-async, wait=1',
              'wait=1;x',
              'WAIT=1',
              'wait = 1',
              'wait=1, wait=2',
              ';;;',
              'x'.repeat(3_000),
            ]),
          ],
        ],
      }),
  ],
  [
    2,
    'origin',
    (random, request) =>
      relabel(request, 'origin', {
        headers: [
          ...request.headers,
          ['Origin', random.pick(['https://example.com', 'null', '*', 'http://127.0.0.1', '', 'https://evil.example', 'x'.repeat(500)])],
          ['Access-Control-Request-Method', 'POST'],
          ['Access-Control-Request-Headers', random.pick(['content-type', 'x-a, x-b', ''])],
        ],
      }),
  ],
  [
    3,
    'content-type',
    (random, request) => {
      const headers = request.headers.filter(([name]) => name.toLowerCase() !== 'content-type');
      const type = random.pick([
        'text/plain',
        'application/json; charset=utf-16',
        'APPLICATION/JSON',
        'application/jsonx',
        'application/json;',
        'application/json ; charset=utf-8',
        'multipart/form-data; boundary=x',
        'application/x-www-form-urlencoded',
        '',
        undefined,
      ]);
      return relabel(request, 'content-type', { headers: type === undefined ? headers : [...headers, ['Content-Type', type]] });
    },
  ],
  [
    2,
    'length-lie',
    (random, request) => {
      const body = request.body ?? Buffer.from('{"channel":"a","data":1}');
      if (random.chance(0.5)) {
        // Longer than the body: the request never ends (the client half-closes after a while).
        return relabel(request, 'length-lie-long', {
          body,
          headers: [...request.headers, ['Content-Length', String(body.length + random.between(1, 100))]],
          incomplete: true,
        });
      }
      // Shorter: the rest of the body is read as the next request on the connection.
      const lying = { ...request, body, headers: [...request.headers, ['Content-Length', String(random.int(body.length))] as const] };
      return relabel(request, 'length-lie-short', { body, raw: rawOf(lying) });
    },
  ],
  [
    2,
    'doubled-header',
    (random, request) => {
      const body = request.body ?? Buffer.from('{}');
      const pair = random.pick([
        [
          ['Content-Length', String(body.length)],
          ['Content-Length', String(body.length + 1)],
        ],
        [
          ['Content-Length', String(body.length)],
          ['Transfer-Encoding', 'chunked'],
        ],
        [
          ['Content-Type', 'application/json'],
          ['Content-Type', 'text/plain'],
        ],
        [
          ['Transfer-Encoding', 'chunked'],
          ['Transfer-Encoding', 'gzip'],
        ],
        [['Content-Length', '-1']],
        [['Content-Length', '1e3']],
        [['Content-Length', `${body.length}, ${body.length}`]],
      ] as const);
      const headers = [
        ...request.headers.filter(([name]) => name.toLowerCase() !== 'content-type' || !pair.some(([n]) => n === 'Content-Type')),
        ...pair,
      ];
      return relabel(request, 'doubled-header', { body, headers, raw: rawOf({ ...request, body, headers }) });
    },
  ],
  [
    1,
    'huge-header',
    (random, request) =>
      relabel(request, 'huge-header', { headers: [...request.headers, ['X-Fuzz', 'h'.repeat(random.pick([4_000, 12_000, 20_000]))]] }),
  ],
  [
    1,
    'many-headers',
    (random, request) =>
      relabel(request, 'many-headers', {
        headers: [...request.headers, ...Array.from({ length: random.pick([50, 150, 2_100]) }, (_, i) => [`X-H${i}`, String(i)] as const)],
      }),
  ],
  [
    2,
    'latin1-header',
    (random, request) => {
      const headers = [
        ...request.headers,
        [
          random.pick(['X-Fuzz', 'Prefer', 'Origin', 'Content-Type']),
          Buffer.from([0x77, 0x61, 0x69, 0x74, 0x3d, random.between(0x80, 0xff), random.between(0x80, 0xff)]).toString('latin1'),
        ] as const,
      ];
      return relabel(request, 'latin1-header', { headers, raw: rawOf({ ...request, headers }) });
    },
  ],
  [
    1,
    'expect-continue',
    (_random, request) => relabel(request, 'expect-continue', { headers: [...request.headers, ['Expect', '100-continue']] }),
  ],
  [
    1,
    'http10',
    (_random, request) =>
      relabel(request, 'http10', {
        raw: Buffer.from(
          `${request.method} ${request.target} HTTP/1.0\r\n${request.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}${request.body ? `Content-Length: ${request.body.length}\r\n` : ''}\r\n${request.body?.toString('latin1') ?? ''}`,
          'latin1',
        ),
      }),
  ],
  [
    2,
    'raw-flip',
    (random, request) => {
      // A byte flipped anywhere in the serialised request: request line, headers or body.
      const bytes = Buffer.from(rawOf(request));
      const flips = random.between(1, 3);
      for (let i = 0; i < flips; i++) bytes[random.int(bytes.length)] = random.int(256);
      return relabel(request, 'raw-flip', { raw: bytes });
    },
  ],
  [
    1,
    'garbage',
    (random, request) =>
      relabel(request, 'garbage', { raw: Buffer.from(Array.from({ length: random.between(1, 400) }, () => random.int(256))) }),
  ],
  [
    1,
    'pipelined',
    (_random, request) => {
      const one = rawOf(request, 'keep-alive');
      return relabel(request, 'pipelined', {
        raw: Buffer.concat([one, one, Buffer.from('GET /poll?channels=a&wait=0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]),
      });
    },
  ],
  // Bodies
  [
    4,
    'body-flip',
    (random, request) => {
      const body = Buffer.from(request.body ?? Buffer.from('{"channel":"a","data":{"x":[1,2,3]}}'));
      const flips = random.between(1, 4);
      for (let i = 0; i < flips; i++) body[random.int(body.length)] = random.int(256);
      return relabel(request, 'body-flip', { body });
    },
  ],
  [
    3,
    'body-truncate',
    (random, request) => {
      const body = request.body ?? Buffer.from('{"channel":"a","data":"xyz"}');
      return relabel(request, 'body-truncate', { body: body.subarray(0, random.int(body.length)) });
    },
  ],
  [
    2,
    'body-bytes',
    (random, request) => {
      const body = request.body ?? Buffer.from('{"channel":"a","data":1}');
      const extra = random.pick([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from([0]),
        Buffer.from([0xff, 0xfe]),
        Buffer.from([0xc3, 0x28]),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from(' \n\t\r'),
        Buffer.from('\\u0000'),
      ]);
      const at = random.int(body.length + 1);
      return relabel(request, 'body-bytes', { body: Buffer.concat([body.subarray(0, at), extra, body.subarray(at)]) });
    },
  ],
  [
    3,
    'deep-nesting',
    (random, request) => {
      // 5,000 levels in 10 KB, 15,000 in 30 KB (under the event limit), 30,000 (over it).
      const depth = random.pick([1_000, 5_000, 5_000, 15_000, 30_000]);
      const nested = random.chance(0.5)
        ? `${'['.repeat(depth)}${']'.repeat(depth)}`
        : `${'{"a":'.repeat(Math.floor(depth / 3))}1${'}'.repeat(Math.floor(depth / 3))}`;
      const body = random.chance(0.8) ? `{"channel":"${channelOf(request)}","data":${nested}}` : nested;
      return relabel(request, 'deep-nesting', { method: 'POST', body: Buffer.from(body), headers: withJsonType(request.headers) });
    },
  ],
  [
    2,
    'huge-body',
    (random, request, limits) => {
      const size = random.pick([
        limits.maxEventBytes - 100,
        limits.maxEventBytes + 10,
        limits.maxEventBytes + 2_000,
        Math.floor(limits.maxBodyBytes * 0.9),
      ]);
      const body = `{"channel":"${channelOf(request)}","data":"${'x'.repeat(Math.max(0, size))}"}`;
      return relabel(request, 'huge-body', {
        method: 'POST',
        body: Buffer.from(body),
        headers: withJsonType(request.headers),
        chunked: random.chance(0.5),
      });
    },
  ],
  [
    2,
    'chunked-over-limit',
    (random, request, limits) => {
      // Chunked, so no Content-Length announces the size: the adapter's body limit must answer 413.
      const size = limits.maxBodyBytes + random.pick([1, 1_000, 100_000]);
      return relabel(request, 'chunked-over-limit', {
        method: 'POST',
        body: Buffer.from(`{"channel":"${channelOf(request)}","data":"${'y'.repeat(size)}"}`),
        headers: withJsonType(request.headers),
        chunked: true,
      });
    },
  ],
  [
    1,
    'chunked',
    (_random, request) => relabel(request, 'chunked', { chunked: true, body: request.body ?? Buffer.from('{"channel":"a","data":null}') }),
  ],
  [
    3,
    'body-shape',
    (random, request) => {
      const channel = channelOf(request);
      const body = random.pick([
        '',
        ' ',
        'null',
        '[]',
        '"text"',
        '1',
        'true',
        '{}',
        '{"channel":"a"}',
        `{"data":1}`,
        `{"channel":"${channel}","data":1,"extra":2}`,
        `{"channel":"${channel}","channel":"other","data":1}`,
        `{"channel":"${channel}","data":1,"__proto__":{"x":1}}`,
        `{"__proto__":{"channel":"${channel}"},"data":1}`,
        `{"constructor":{"prototype":{}},"channel":"${channel}","data":1}`,
        `{"channel":5,"data":1}`,
        `{"channel":null,"data":1}`,
        `{"channel":["${channel}"],"data":1}`,
        `{"channel":"","data":1}`,
        `{"channel":"${'c'.repeat(129)}","data":1}`,
        `{"channel":"a,b","data":1}`,
        `{"channel":"é","data":1}`,
        `{"channel":"{a}","data":1}`,
        `{"channel":"${channel}","data":undefined}`,
        `{"channel":"${channel}","data":NaN}`,
        `{"channel":"${channel}","data":1e400}`,
        `{"channel":"${channel}","data":-0}`,
        `{"channel":"${channel}","data":123456789012345678901234567890}`,
        `{"channel":"${channel}","data":"\\ud800"}`,
        `{"channel":"${channel}","data":"\\u0000"}`,
        `{"channel":"${channel}","data":"😀"}`,
        `{"channel":"${channel}","data":${JSON.stringify(Object.fromEntries(Array.from({ length: 3_000 }, (_, i) => [`k${i}`, i])))}}`,
        `{"channel":"${channel}","data":1}trailing`,
        `{"channel":"${channel}","data":1}{"channel":"${channel}","data":2}`,
      ]);
      return relabel(request, 'body-shape', { method: 'POST', body: Buffer.from(body), headers: withJsonType(request.headers) });
    },
  ],
  [
    1,
    'get-with-body',
    (random, request) =>
      relabel(request, 'get-with-body', { method: 'GET', body: Buffer.from(random.pick(['{"a":1}', 'x'.repeat(5_000), ''])) }),
  ],
];

export function mutate(random: Random, request: FuzzRequest, limits: Limits): FuzzRequest {
  const [, , mutation] = random.weighted(MUTATIONS.map((entry) => [entry[0], entry] as const));
  return mutation(random, request, limits);
}

/** Every mutation name, for the test's coverage check. */
export const MUTATION_NAMES = MUTATIONS.map(([, name]) => name);

// ---------------------------------------------------------------------------------------------
// Helpers

/** A random JSON value: nested a little, with unicode and numbers at their edges. */
export function randomJson(random: Random, depth: number, budget: number): unknown {
  const kind = random.int(depth > 3 ? 5 : 8);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick([0, -1, 1.5, 1e21, -1e-7, Number.MAX_SAFE_INTEGER, random.int(1_000_000)]);
    case 3:
    case 4:
      return randomText(random, Math.min(budget, random.chance(0.9) ? 20 : budget));
    case 5:
      return Array.from({ length: random.int(5) }, () => randomJson(random, depth + 1, budget / 4));
    default:
      return Object.fromEntries(
        Array.from({ length: random.int(5) }, () => [randomText(random, 6), randomJson(random, depth + 1, budget / 4)]),
      );
  }
}

function randomText(random: Random, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += random.chance(0.9) ? String.fromCharCode(random.between(0x20, 0x7e)) : random.pick(UNICODE);
  return text;
}

function randomAscii(random: Random, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(random.between(0x21, 0x7e));
  return text;
}

function pickSome<T>(random: Random, items: readonly T[], count: number): T[] {
  return shuffle(random, items).slice(0, count);
}

function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

function insertAt(random: Random, text: string, insert: string, from: number): string {
  const at = random.between(Math.min(from, text.length), text.length);
  return `${text.slice(0, at)}${insert}${text.slice(at)}`;
}

function swapChar(random: Random, text: string): string {
  if (text.length === 0) return 'x';
  const at = random.int(text.length);
  const replacement = text[at] === 'A' ? 'B' : 'A';
  return `${text.slice(0, at)}${replacement}${text.slice(at + 1)}`;
}

function channelOf(request: FuzzRequest): string {
  const fromBody = request.body === undefined ? undefined : /"channel":"([^"]*)"/.exec(request.body.toString('latin1'))?.[1];
  const fromQuery = /channels=([^,&]*)/.exec(request.target)?.[1];
  return (fromBody ?? fromQuery ?? 'a').replace(/[^\w.:@/-]/g, '') || 'a';
}

function withJsonType(headers: FuzzRequest['headers']): FuzzRequest['headers'] {
  return headers.some(([name]) => name.toLowerCase() === 'content-type') ? headers : [...headers, ['Content-Type', 'application/json']];
}

/** The bytes a request is sent as (for byte-level mutations), with `Connection: connection`.
 * A Content-Length among its headers is kept as it is, lies included. */
function rawOf(request: FuzzRequest, connection = 'close'): Buffer {
  if (request.raw !== undefined) return request.raw;
  const lines = [`${request.method} ${request.target} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  const named = (name: string) => request.headers.some(([n]) => n.toLowerCase() === name);
  if (request.body !== undefined && !named('content-length') && !named('transfer-encoding'))
    lines.push(`Content-Length: ${request.body.length}`);
  lines.push(`Connection: ${connection}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), request.body ?? Buffer.alloc(0)]);
}
