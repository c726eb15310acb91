import { isChannel } from './channels.js';
import { badRequest } from './errors.js';
import { START } from './log.js';

/**
 * Cursors: one opaque, URL-safe string holding the position of every channel of a poll.
 *
 * Layout: `base64url(channel "=" position ("," channel "=" position)*) "." checksum`, where
 * the checksum is FNV-1a (32 bit, base36) of the payload. Channel names and positions are
 * ASCII without `,` or `=`, so the payload needs no escaping. The checksum rejects edited or
 * truncated cursors with a clear 400; it is not a signature: cursors are not secrets, and
 * authorisation runs on every poll.
 */

/** Positions in a cursor: what every log's positions are made of. */
const POSITION_PATTERN = /^[A-Za-z0-9_.:~-]{1,64}$/;

/** Longest cursor accepted; far above what 32 channels need, far below anything harmful. */
export const MAX_CURSOR_LENGTH = 8192;

export type Positions = ReadonlyMap<string, string>;

export function encodeCursor(positions: Positions): string {
  let payload = '';
  for (const [channel, position] of positions) {
    payload += `${payload === '' ? '' : ','}${channel}=${position}`;
  }
  return `${toBase64Url(payload)}.${fnv1a(payload)}`;
}

/**
 * Decode a cursor. Throws a 400 `bad_cursor` {@link HangtimeError} for anything that is not a
 * cursor this library wrote (wrong shape, wrong checksum, invalid channel or position).
 * @param isPosition the log's own check of a position's syntax
 */
export function decodeCursor(cursor: string, isPosition: (position: string) => boolean): Map<string, string> {
  const invalid = (why: string) => badRequest('bad_cursor', `Invalid cursor: ${why}`);
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH) throw invalid('wrong length');
  const dot = cursor.lastIndexOf('.');
  if (dot <= 0) throw invalid('not a cursor');
  const payload = fromBase64Url(cursor.slice(0, dot));
  if (payload === undefined || fnv1a(payload) !== cursor.slice(dot + 1)) throw invalid('checksum mismatch');
  const positions = new Map<string, string>();
  for (const pair of payload.split(',')) {
    const eq = pair.indexOf('=');
    const channel = pair.slice(0, eq);
    const position = pair.slice(eq + 1);
    if (eq < 0 || !isChannel(channel) || !POSITION_PATTERN.test(position)) throw invalid('malformed entry');
    if (positions.has(channel)) throw invalid('repeated channel');
    // A well-formed cursor with a position this log never writes was written by a hangtime
    // server on another log (a move from the memory log to Redis, say): its history is not this
    // one's. The position of no generation makes the poll a 410 `reset` gap, where the client
    // resumes; a 400 would stop it for good, with the cursor still stored.
    positions.set(channel, isPosition(position) ? position : START);
  }
  return positions;
}

/** FNV-1a, 32 bit: a checksum, not a MAC (see the module comment). Written here because it is
 * six lines and needs to run synchronously on every platform, where Web Crypto is async. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}

// Payloads are ASCII (validated above), so btoa/atob apply directly: they exist on every
// runtime hangtime targets, where Buffer does not (edge runtimes).
function toBase64Url(ascii: string): string {
  return btoa(ascii).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let decoded: string;
  try {
    decoded = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    return undefined;
  }
  // atob ignores the unused low bits of the last character: insist on the canonical form so
  // that every edit of a cursor is an error, not an alias.
  return toBase64Url(decoded) === text ? decoded : undefined;
}
