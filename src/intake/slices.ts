/**
 * Consecutive slices of at most `max` bytes by `sizeOf`, in order, at least one item each (an
 * item larger than `max` is a slice of its own). Batches and produce requests are cut with it.
 */
export function slicesOf<T>(items: readonly T[], max: number, sizeOf: (item: T) => number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && bytes + size > max) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
