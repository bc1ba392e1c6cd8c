interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Work on one key, batched by contention: the first item of an idle key is
 * processed at once (no added latency when nothing competes), and items of
 * that key arriving while a batch runs wait and go together in the next
 * one, up to `maxBatch`. `process` answers each item of a batch, in order.
 * If it throws for a batch of several (its work undone: a rolled-back
 * transaction), each item is processed again alone, so one bad item fails
 * only itself, never the others batched with it.
 */
export function createBatcher<I, O>(
  process: (key: string, items: I[]) => Promise<O[]>,
  maxBatch = 64,
): (key: string, item: I) => Promise<O> {
  const queues = new Map<string, Waiting<I, O>[]>();

  async function drain(key: string, queue: Waiting<I, O>[]): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      try {
        const answers = await process(
          key,
          batch.map((w) => w.item),
        );
        batch.forEach((w, i) => w.resolve(answers[i] as O));
      } catch (error) {
        if (batch.length === 1) batch[0]!.reject(error);
        else for (const w of batch) await process(key, [w.item]).then(([answer]) => w.resolve(answer as O), w.reject);
      }
    }
    queues.delete(key);
  }

  return (key, item) =>
    new Promise<O>((resolve, reject) => {
      const waiting = { item, resolve, reject };
      const queue = queues.get(key);
      if (queue) {
        queue.push(waiting);
        return;
      }
      const fresh = [waiting];
      queues.set(key, fresh);
      void drain(key, fresh);
    });
}
