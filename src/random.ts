const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A random lowercase base-36 string. Uses Web Crypto, present on every target runtime. */
export function randomId(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let id = '';
  // 252 = 7 * 36: reject-free mapping would bias; the tiny bias of `% 36` on 256 is
  // irrelevant for generation tags, which only need to differ, not to be secret.
  for (const byte of bytes) id += ALPHABET[byte % 36];
  return id;
}
