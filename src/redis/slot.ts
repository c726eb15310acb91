/**
 * The Redis Cluster slot of a key (CRC16/XMODEM of its hash tag, modulo 16384), as the Cluster
 * specification defines it: the blocking wait sends its XREAD straight to the master of the
 * channel's slot (see blocking.ts). Written here, 20 lines, rather than importing
 * `cluster-key-slot`, which is only a dependency of ioredis and not ours to rely on.
 */

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

export function keySlot(key: string): number {
  let bytes = new TextEncoder().encode(key);
  const open = bytes.indexOf(0x7b); // {
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc % 16384;
}
