/**
 * Moving tensor elements between file bytes and typed arrays.
 *
 * Typed arrays use the host's byte order and need an offset that is a multiple of their
 * element size. Both formats store little-endian data (npy may also store big-endian) at
 * offsets that need not be aligned, so a typed view is taken only when it would be correct;
 * otherwise the bytes are copied (and swapped) first.
 */
import { dataOver, type HostData, type HostDType, itemSize } from './host-tensor.js';

/** True on every platform Node ships for today; checked rather than assumed. */
export const HOST_IS_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export type ByteOrder = 'little' | 'big';

/** Reverses each `size`-byte group of `bytes` in place. */
function swapInPlace(bytes: Uint8Array, size: number): void {
  for (let at = 0; at + size <= bytes.length; at += size) {
    for (let i = 0, j = size - 1; i < j; i++, j--) {
      const t = bytes[at + i]!;
      bytes[at + i] = bytes[at + j]!;
      bytes[at + j] = t;
    }
  }
}

/**
 * `count` elements of `dtype` stored in `order` at `bytes[start ..]`, as the typed array
 * that stores `dtype`. The result views `bytes`' memory when the offset is aligned and no
 * swap is needed (so it shares memory with `bytes`), and is a fresh copy otherwise.
 * The caller has checked that the range lies inside `bytes`.
 */
export function decodeElements(bytes: Uint8Array, start: number, count: number, dtype: HostDType, order: ByteOrder): HostData {
  const size = itemSize(dtype);
  const needsSwap = size > 1 && (order === 'little') !== HOST_IS_LITTLE_ENDIAN;
  const absolute = bytes.byteOffset + start;
  if (!needsSwap && absolute % size === 0) return dataOver(dtype, bytes.buffer, absolute, count);
  // A fresh array of its own, then a copy into it: `bytes.slice` would not do, because a Node
  // `Buffer`'s slice is a view (sharing memory, at a nonzero byteOffset), so reading its
  // `.buffer` from byte 0 would read the wrong bytes and swapping would alter the caller's.
  const copy = new Uint8Array(count * size);
  copy.set(bytes.subarray(start, start + count * size));
  if (needsSwap) swapInPlace(copy, size);
  return dataOver(dtype, copy.buffer, 0, count);
}

/** The little-endian bytes of `data`: a view on a little-endian host, a swapped copy otherwise. */
export function littleEndianBytes(data: HostData): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_IS_LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return view;
  const copy = view.slice();
  swapInPlace(copy, data.BYTES_PER_ELEMENT);
  return copy;
}
