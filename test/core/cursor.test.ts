import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, MAX_CURSOR_LENGTH } from '../../src/cursor.js';
import { isHangtimeError } from '../../src/errors.js';
import { memoryLog } from '../../src/memory-log.js';

const log = memoryLog();
const isPosition = (p: string) => log.isPosition(p);

function rejects(cursor: string): void {
  let thrown: unknown;
  try {
    decodeCursor(cursor, isPosition);
  } catch (error) {
    thrown = error;
  }
  expect(isHangtimeError(thrown), `cursor ${JSON.stringify(cursor.slice(0, 60))} should be rejected`).toBe(true);
  expect(thrown).toMatchObject({ status: 400, code: 'bad_cursor' });
}

describe('cursors', () => {
  it('round-trip exactly, in order, URL-safe', () => {
    const positions = new Map([
      ['chat', 'k3x9a0-0000001-00000000g'],
      ['room:42/presence', 'k3x9a0-0000002-000000000'],
      ['a.b_c-d@e', 'zzzzzz-zzzzzzz-zzzzzzzzz'],
    ]);
    const cursor = encodeCursor(positions);
    expect(cursor).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect([...decodeCursor(cursor, isPosition)]).toEqual([...positions]);
  });

  it('stay compact: 32 channels fit well under 2 KB', () => {
    const positions = new Map(Array.from({ length: 32 }, (_, i) => [`channel-${i}`, 'k3x9a0-0000001-00000000g']));
    expect(encodeCursor(positions).length).toBeLessThan(2048);
  });

  it('reject any single-character edit', async () => {
    const cursor = encodeCursor(new Map([['chat', await log.append('chat', 1)]]));
    for (let i = 0; i < cursor.length; i++) {
      const replacement = cursor[i] === 'A' ? 'B' : 'A';
      rejects(cursor.slice(0, i) + replacement + cursor.slice(i + 1));
    }
  });

  it('reject truncation, empty, and over-long input', () => {
    const cursor = encodeCursor(new Map([['chat', '0']]));
    for (let n = 0; n < cursor.length; n++) rejects(cursor.slice(0, n));
    rejects('x'.repeat(MAX_CURSOR_LENGTH + 1));
    rejects(`${cursor}.${cursor}`);
  });

  it('reject well-formed payloads with invalid content', () => {
    const forge = (payload: string) => {
      // Re-create the checksum so only the content check can reject it.
      let hash = 0x811c9dc5;
      for (let i = 0; i < payload.length; i++) hash = Math.imul(hash ^ payload.charCodeAt(i), 0x01000193);
      return `${btoa(payload).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}.${(hash >>> 0).toString(36)}`;
    };
    expect([...decodeCursor(forge('chat=0'), isPosition)]).toEqual([['chat', '0']]);
    // Well-formed, but not this log's: another log's cursor, read as the position of no generation.
    expect([...decodeCursor(forge('chat=not-a-position'), isPosition)]).toEqual([['chat', '0']]);
    rejects(forge('chat=not a position'));
    rejects(forge('bad channel=0'));
    rejects(forge('chat=0,chat=0'));
    rejects(forge('chat'));
    rejects(forge(''));
    rejects(forge('chat=0,'));
  });

  it('never throw anything but a 400 on random bytes', () => {
    for (let i = 0; i < 2000; i++) {
      const length = 1 + Math.floor(Math.random() * 80);
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      const text = i % 2 === 0 ? String.fromCharCode(...bytes) : `${btoa(String.fromCharCode(...bytes)).replace(/=/g, '')}.x1`;
      rejects(text);
    }
  });
});
