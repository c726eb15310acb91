import { readFileSync } from 'node:fs';
import type { FuzzRequest, FuzzResponse } from './transport.js';

/**
 * What every answer to a fuzzed request must be (docs/protocol.md): an answer (a connection
 * never dropped without one, unless the request itself never ended), no 5xx but the documented
 * 503 (`too_many_waiters`; the log is healthy throughout a fuzz run, so `log_unavailable` is a
 * failure too), and every hangtime error a JSON body with a documented `code` that matches its
 * status. Node's own HTTP parser answers requests that are not HTTP (a bare 400, 431, …, no
 * body): those never reach hangtime and are counted apart.
 */

/**
 * docs/protocol.md, "Errors": status → the codes it may carry, read from the table itself so the
 * fuzz and the protocol cannot drift apart. The log stays healthy and the server open through a
 * fuzz run, so `log_unavailable` and `shutting_down` would be failures here.
 */
const CODES: Readonly<Record<number, readonly string[]>> = documentedCodes(['log_unavailable', 'shutting_down', 'internal']);

function documentedCodes(excluded: readonly string[]): Record<number, string[]> {
  const protocol = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
  const codes: Record<number, string[]> = {};
  for (const [, status, code] of protocol.matchAll(/^\| (\d{3}) \| `([a-z_]+)` \|/gm)) {
    if (excluded.includes(code!)) continue;
    (codes[Number(status)] ??= []).push(code!);
  }
  if (Object.keys(codes).length < 8) throw new Error('docs/protocol.md: the Errors table was not found');
  return codes;
}

/** Statuses Node's HTTP parser answers with by itself, without a body (request not HTTP). */
const NODE_STATUSES = new Set([400, 408, 413, 414, 431, 501, 505]);

export type Verdict =
  | { readonly kind: 'hangtime'; readonly code?: string | undefined }
  | { readonly kind: 'node' } // answered by Node's HTTP parser
  | { readonly kind: 'unanswered-incomplete' }; // a request that never ended, never answered: fine

/** A violation's text, or the verdict on a correct answer. */
export function check(request: FuzzRequest, response: FuzzResponse): { violation: string } | Verdict {
  const method = methodOf(request);
  if (!response.answered) {
    if (request.incomplete || response.incomplete) return { kind: 'unanswered-incomplete' };
    // Node's http.Server closes CONNECT requests when nobody listens for 'connect': they never
    // reach the handler (docs of http.Server, event 'connect').
    if (method === 'CONNECT') return { kind: 'node' };
    return { violation: `no answer (${response.error ?? 'connection closed'})` };
  }
  const { status, headers } = response;
  const head = method === 'HEAD';
  // Every hangtime answer carries Cache-Control: no-store; Node's parser errors carry nothing.
  if (headers['cache-control'] === undefined) {
    if (NODE_STATUSES.has(status) && response.body.length === 0) return { kind: 'node' };
    return { violation: `${status} without Cache-Control (neither a hangtime answer nor Node's parser error)` };
  }
  if (headers['cache-control'] !== 'no-store') return { violation: `${status} with Cache-Control: ${headers['cache-control']}` };
  if (status >= 500) {
    if (status !== 503) return { violation: `${status}: a server error` };
  }
  if (status < 400) return successful(request, response, head);

  const codes = CODES[status];
  if (codes === undefined) return { violation: `${status}: not a status the protocol answers with` };
  if (head) return { kind: 'hangtime' }; // no body to read
  if (!/^application\/json/.test(headers['content-type'] ?? ''))
    return { violation: `${status} with Content-Type ${headers['content-type']}` };
  let body: { error?: { code?: unknown; message?: unknown }; gaps?: unknown; cursor?: unknown };
  try {
    body = JSON.parse(response.body.toString('utf8')) as typeof body;
  } catch {
    return { violation: `${status} with a body that is not JSON: ${preview(response.body)}` };
  }
  const code = body.error?.code;
  if (typeof code !== 'string' || typeof body.error?.message !== 'string')
    return { violation: `${status} without {"error":{"code","message"}}: ${preview(response.body)}` };
  if (!codes.includes(code)) {
    const documented = code === 'log_unavailable' ? ' (the log is healthy: this request made it fail)' : '';
    return { violation: `${status} ${code}: not a code of status ${status}${documented}` };
  }
  if (status === 503 && !/^\d+$/.test(headers['retry-after'] ?? '')) return { violation: `503 ${code} without Retry-After` };
  if (status === 405 && headers.allow === undefined) return { violation: '405 without Allow' };
  if (status === 410) {
    const gaps = body.gaps;
    if (!Array.isArray(gaps) || gaps.length === 0 || typeof body.cursor !== 'string')
      return { violation: `410 without gaps and a cursor: ${preview(response.body)}` };
    for (const gap of gaps as Array<Record<string, unknown>>) {
      if (
        typeof gap.channel !== 'string' ||
        typeof gap.resumeAfter !== 'string' ||
        !(gap.missed === null || (typeof gap.missed === 'number' && gap.missed >= 0))
      ) {
        return { violation: `410 with a malformed gap: ${JSON.stringify(gap)}` };
      }
    }
  }
  return { kind: 'hangtime', code };
}

/** The method the server saw: the first word of raw bytes, or the method node:http sends
 * (upper-cased). */
function methodOf(request: FuzzRequest): string {
  if (request.raw === undefined) return request.method.toUpperCase();
  const space = request.raw.indexOf(0x20);
  return request.raw.subarray(0, Math.max(space, 0)).toString('latin1');
}

function successful(request: FuzzRequest, response: FuzzResponse, head: boolean): { violation: string } | Verdict {
  const { status } = response;
  const method = methodOf(request);
  if (status === 204) return method === 'OPTIONS' ? { kind: 'hangtime' } : { violation: `204 to ${request.method}` };
  if (head) return { violation: `${status} to HEAD` };
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return { violation: `${status} with a body that is not JSON: ${preview(response.body)}` };
  }
  if (status === 200 && method === 'GET') {
    if (!Array.isArray(body.events) || typeof body.cursor !== 'string' || typeof body.more !== 'boolean')
      return { violation: `200 that is not a poll answer: ${preview(response.body)}` };
    return { kind: 'hangtime' };
  }
  if (status === 201 && method === 'POST') {
    if (typeof body.channel !== 'string' || typeof body.position !== 'string')
      return { violation: `201 that is not a publish answer: ${preview(response.body)}` };
    return { kind: 'hangtime' };
  }
  return { violation: `${status} to ${request.method}` };
}

/** The first bytes of a body, printable. */
export function preview(bytes: Buffer, length = 160): string {
  const text = bytes.subarray(0, length).toString('latin1');
  return JSON.stringify(text) + (bytes.length > length ? ` (+${bytes.length - length} bytes)` : '');
}

/** A request, short and printable, for a failure message. */
export function describeRequest(request: FuzzRequest): string {
  const target = request.target.length > 160 ? `${request.target.slice(0, 160)}… (${request.target.length} chars)` : request.target;
  const headers = request.headers
    .map(([name, value]) => `${name}: ${value.length > 60 ? `${value.slice(0, 60)}… (${value.length})` : value}`)
    .join(' | ');
  const body = request.body === undefined ? '' : ` body ${preview(request.body, 100)}`;
  const raw = request.raw === undefined ? '' : ` raw ${preview(request.raw, 200)}`;
  return `[${request.label}] ${request.method} ${JSON.stringify(target)}${headers ? ` {${headers}}` : ''}${request.chunked ? ' (chunked)' : ''}${body}${raw}`;
}
