import { PublisherClient, parseGripUri, validateSig } from '@fanoutio/grip';
import type { EventLog } from '../log.js';
import { assertKnownOptions, assertOptionalFunction, assertPositiveInteger, assertPositiveNumber } from '../options.js';
import { withTimeout } from '../timeout.js';
import { DelegatedHolds } from './hold.js';
import { publishingLog, type GripItem } from './publish.js';
import type { GripDelegate } from './types.js';

export type { GripDelegate } from './types.js';
export { itemsOfAppend, publishingLog } from './publish.js';
export type { GripItem } from './publish.js';

export interface GripProxyOptions {
  /**
   * The proxy's GRIP URL, as Fanout's libraries read it: the publish endpoint's base, with
   * `key`/`verify-key` (and `iss`, `verify-iss`) as query parameters. Pushpin:
   * `http://127.0.0.1:5561/?verify-key=<sig_key of pushpin.conf>`. Default: the `GRIP_URL`
   * environment variable.
   */
  readonly url?: string;
  /** The key `Grip-Sig` is verified with, overriding the URL's `verify-key` (then `key`).
   * Default: the `GRIP_VERIFY_KEY` environment variable, if set. */
  readonly verifyKey?: string;
  /** Longest hold the proxy is asked for (`Grip-Timeout`), in seconds; a poll's `wait` may ask
   * for less. Default `55`. */
  readonly maxTimeoutSeconds?: number;
  /** Polls following more channels are held in the function. Default `20`, Pushpin's
   * `connection_subscription_max`. */
  readonly maxChannels?: number;
  /** Longest a publish may take before the append goes on without it, in ms. Default `2_000`. */
  readonly publishTimeoutMs?: number;
  /** Receives failed publishes and signature checks. Never `console`. */
  readonly onError?: (error: unknown) => void;
  /** The `fetch` publishes use. Default: the global one. */
  readonly fetch?: typeof fetch;
  /** Random source for the `Grip-Timeout` jitter, for tests. Default `Math.random`. */
  readonly random?: () => number;
}

const OPTION_NAMES = ['url', 'verifyKey', 'maxTimeoutSeconds', 'maxChannels', 'publishTimeoutMs', 'onError', 'fetch', 'random'] as const;

/** Verified signatures kept (by their text) until they expire: the proxy reuses a signature for
 * many requests, and checking an HMAC or an ECDSA signature per poll is the costly part. */
const MAX_VERIFIED = 1_000;

/**
 * A GRIP proxy (Pushpin, Fastly Fanout) in front of the endpoint: polls that come through it
 * are held by the proxy, not the function, and every append publishes to it. See docs/grip.md.
 *
 * @example
 * import { createHangtime } from 'hangtime';
 * import { gripProxy } from 'hangtime/grip';
 *
 * // GRIP_URL=http://127.0.0.1:5561/?verify-key=changeme
 * const hangtime = createHangtime({ grip: gripProxy() });
 */
export function gripProxy(options: GripProxyOptions = {}): GripDelegate {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected gripProxy() options to be an object, got ${options === null ? 'null' : typeof options}`);
  }
  assertKnownOptions(options, OPTION_NAMES, 'gripProxy()');
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const url = options.url ?? env.GRIP_URL;
  if (typeof url !== 'string' || url === '') {
    throw new TypeError(
      'Expected `url` (or the GRIP_URL environment variable) to be the GRIP URL of the proxy, like http://127.0.0.1:5561/?verify-key=changeme',
    );
  }
  const verifyKeyOption = options.verifyKey ?? env.GRIP_VERIFY_KEY;
  if (verifyKeyOption !== undefined && (typeof verifyKeyOption !== 'string' || verifyKeyOption === '')) {
    throw new TypeError('Expected `verifyKey` to be a non-empty string');
  }
  const maxTimeoutSeconds = assertPositiveInteger(options.maxTimeoutSeconds ?? 55, 'maxTimeoutSeconds');
  const maxChannels = assertPositiveInteger(options.maxChannels ?? 20, 'maxChannels');
  const publishTimeoutMs = assertPositiveNumber(options.publishTimeoutMs ?? 2_000, 'publishTimeoutMs');
  for (const name of ['onError', 'fetch', 'random'] as const) assertOptionalFunction(options[name], name);
  const onError = (error: unknown): void => {
    try {
      options.onError?.(error);
    } catch {
      // An onError that throws must not fail an append or a poll.
    }
  };
  const doFetch = options.fetch ?? fetch;

  let config: ReturnType<typeof parseGripUri>;
  try {
    config = parseGripUri(url, { 'verify-key': verifyKeyOption });
  } catch (error) {
    throw new TypeError(`Expected \`url\` to be a GRIP URL, got ${JSON.stringify(url.slice(0, 80))}`, { cause: error });
  }
  // Pushpin signs Grip-Sig with the key it is given (`sig_key`), which GRIP URLs for Pushpin name
  // `key`; the library verifies with it only when `iss` is given too. Without any key, a
  // signature cannot be verified, and every request would be direct: refused here instead.
  if (config.verify_key === undefined && typeof config.key === 'string') config.verify_key = config.key;
  const client = new PublisherClient(config);
  const verifyKey = client.getVerifyKey();
  if (verifyKey === undefined) {
    throw new TypeError(
      'Expected a key to verify Grip-Sig with: `verify-key` or `key` in the GRIP URL, or the `verifyKey` option (GRIP_VERIFY_KEY)',
    );
  }
  const verifyIss = client.getVerifyIss();

  const verified = new Map<string, number>();
  async function verify(signature: string): Promise<boolean> {
    const expiresAt = verified.get(signature);
    if (expiresAt !== undefined && expiresAt > Date.now()) return true;
    const valid = verifyIss === undefined ? await validateSig(signature, verifyKey!) : await validateSig(signature, verifyKey!, verifyIss);
    if (!valid) return false;
    if (verified.size >= MAX_VERIFIED) verified.clear();
    verified.set(signature, expiryOf(signature));
    return true;
  }

  async function send(items: readonly GripItem[]): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const auth = client.getAuth();
    if (auth !== undefined) headers.authorization = await auth.buildHeader();
    const controller = new AbortController();
    const request = doFetch(client.publishUri, {
      method: 'POST',
      headers,
      body: JSON.stringify({ items }),
      signal: controller.signal,
    }).then(async (response) => {
      const text = await response.text();
      if (!response.ok) throw new Error(`The GRIP proxy refused a publish: ${response.status} ${text.slice(0, 200)}`);
    });
    try {
      await withTimeout(
        request,
        publishTimeoutMs,
        () => new Error(`The GRIP proxy did not take a publish within ${publishTimeoutMs} ms (publishTimeoutMs)`),
      );
    } catch (error) {
      controller.abort();
      throw error;
    }
  }

  const holds = new DelegatedHolds({ maxTimeoutSeconds, maxChannels, verify, random: options.random ?? Math.random, onError });
  return {
    publishing: (log: EventLog) => publishingLog(log, send, onError),
    intercepts: (request, context) => holds.intercepts(request, context),
    respondInto: (request, context, replier, next) => holds.respondInto(request, context, replier, next),
  };
}

/** When a verified JWT expires (its `exp`), capped at one hour from now. */
function expiryOf(token: string): number {
  const cap = Date.now() + 3_600_000;
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof payload.exp === 'number' ? Math.min(payload.exp * 1000, cap) : cap;
  } catch {
    return cap;
  }
}
