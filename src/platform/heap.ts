/** A binary heap: `pop` answers the item that comes first by `before`. */
export class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** The items not popped, in no particular order. */
  remaining(): readonly T[] {
    return this.items;
  }

  push(item: T): void {
    const { items, before } = this;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i] as T, items[parent] as T)) break;
      [items[i], items[parent]] = [items[parent] as T, items[i] as T];
      i = parent;
    }
  }

  pop(): T | undefined {
    const { items, before } = this;
    const first = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let top = i;
        if (l < items.length && before(items[l] as T, items[top] as T)) top = l;
        if (r < items.length && before(items[r] as T, items[top] as T)) top = r;
        if (top === i) break;
        [items[i], items[top]] = [items[top] as T, items[i] as T];
        i = top;
      }
    }
    return first;
  }
}
