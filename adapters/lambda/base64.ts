// Base64 and byte conversions without `node:buffer`, so that the Lambda modules (and Netlify's
// entry, which shares them) bundle for Web runtimes. `atob`/`btoa`, `TextEncoder` and
// `TextDecoder` are globals in Node >= 16 and every Web runtime.

/**
 * Base64 to bytes, as leniently as Node's `Buffer.from(text, 'base64')` was: the URL-safe
 * alphabet too, characters outside the alphabet (white space) skipped, decoding stops at the
 * first `=`, and a trailing lone character ignored.
 */
export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  let clean = text.replace(/-/g, '+').replace(/_/g, '/');
  const end = clean.indexOf('=');
  if (end >= 0) clean = clean.slice(0, end);
  clean = clean.replace(/[^A-Za-z0-9+/]/g, '');
  if (clean.length % 4 === 1) clean = clean.slice(0, -1);
  const binary = atob(clean + '='.repeat((4 - (clean.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Bytes to base64 (standard alphabet, padded). */
export function bytesToBase64(bytes: Uint8Array): string {
  return btoa(latin1(bytes));
}

/** The UTF-8 bytes of `text` as a string of one char per byte (what `Headers` takes). */
export function utf8AsLatin1(text: string): string {
  return latin1(new TextEncoder().encode(text));
}

/** Decode UTF-8, replacing malformed sequences with U+FFFD (as `Buffer#toString('utf8')` did). */
export function decodeUtf8Lenient(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

function latin1(bytes: Uint8Array): string {
  let binary = '';
  // In chunks: String.fromCharCode takes its arguments on the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return binary;
}
