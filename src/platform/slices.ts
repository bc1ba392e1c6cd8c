/**
 * Long work done in slices, so that no request holds the event loop for
 * long: between slices every other waiting request gets its turn.
 */

/** Resolves in the event loop's next check phase, after the I/O that is waiting now. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A sorted copy of `items` (stable), made without holding the loop: runs of
 * `slice` items are sorted one per turn, then merged in pairs, about
 * `slice` items a turn.
 */
export async function sortInSlices<T>(
  items: readonly T[],
  compare: (a: T, b: T) => number,
  slice = 1024,
): Promise<T[]> {
  let runs: T[][] = [];
  for (let i = 0; i < items.length; i += slice) {
    runs.push(items.slice(i, i + slice).sort(compare));
    await nextTurn();
  }
  let budget = 0;
  while (runs.length > 1) {
    const merged: T[][] = [];
    for (let r = 0; r < runs.length; r += 2) {
      const a = runs[r] as T[];
      const b = runs[r + 1];
      if (!b) {
        merged.push(a);
        continue;
      }
      const out: T[] = [];
      let x = 0;
      let y = 0;
      while (x < a.length && y < b.length) {
        out.push(compare(a[x] as T, b[y] as T) <= 0 ? (a[x++] as T) : (b[y++] as T));
        if (++budget >= slice) {
          budget = 0;
          await nextTurn();
        }
      }
      for (; x < a.length; x++) out.push(a[x] as T);
      for (; y < b.length; y++) out.push(b[y] as T);
      merged.push(out);
    }
    runs = merged;
  }
  return runs[0] ?? [];
}
