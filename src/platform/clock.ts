/** Time, injected so that tests are exact. Epoch milliseconds, integers. */
export interface Clock {
  now(): number;
  /**
   * A worker's beat: runs `fn` every `ms` — by the system's timers (which do
   * not keep the process alive), or, on a manual clock, when a test moves it.
   * Returns the function that stops it.
   */
  every(ms: number, fn: () => unknown): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

export interface ManualClock extends Clock {
  /**
   * Moves time on and runs each beat that came due, once (a beat that missed
   * several runs once, as a busy process's timer would); resolves when the
   * work they started is done.
   */
  advance(ms: number): Promise<void>;
  /** Puts time at `ms` without running any beat (each is next due a period later). */
  set(ms: number): void;
}

/** A clock a test moves by hand: time stands still, and workers beat only when it moves. */
export function createManualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let t = start;
  const beats = new Set<{ ms: number; due: number; fn: () => unknown }>();
  return {
    now: () => t,
    every(ms, fn) {
      const beat = { ms, due: t + ms, fn };
      beats.add(beat);
      return () => beats.delete(beat);
    },
    async advance(ms) {
      t += ms;
      const work: unknown[] = [];
      for (const beat of beats) {
        if (beat.due > t) continue;
        beat.due = t + beat.ms;
        work.push(beat.fn());
      }
      await Promise.all(work);
    },
    set(ms) {
      t = ms;
      for (const beat of beats) beat.due = t + beat.ms;
    },
  };
}
