/**
 * The order of work in one turn of the event loop: writes first, then reads.
 *
 * Requests are parsed in the loop's poll phase. A write queued there (the
 * SQLite group commit) commits at the start of the check phase, and reads
 * that wait with `afterWrites` run after that commit. So under load a write
 * waits for at most the rest of the turn it arrived in, not for the reads
 * parsed ahead of it in its own turn as well, and a read sees every write
 * that arrived with it. A read costs one extra hop (a `setImmediate`) when
 * the process is idle.
 *
 * One per process: there is one event loop (a worker thread has its own
 * copy of this module).
 */

const commits: (() => Promise<void>)[] = [];
let reads: (() => void)[] = [];
let scheduled = false;

function schedule(): void {
  if (!scheduled) {
    scheduled = true;
    setImmediate(run);
  }
}

function release(waiting: (() => void)[]): void {
  for (const resume of waiting) resume();
}

function run(): void {
  scheduled = false;
  const waiting = reads;
  reads = [];
  if (commits.length === 0) return release(waiting);
  const started = commits.splice(0).map((commit) => commit());
  void Promise.allSettled(started).then(() => release(waiting));
}

/** Runs `commit` at the end of this turn's poll phase, before the reads waiting in this turn. */
export function commitThisTurn(commit: () => Promise<void>): void {
  commits.push(commit);
  schedule();
}

/** Calls `resume` once the writes queued in this turn have committed (in the check phase when none are). */
export function afterWrites(resume: () => void): void {
  reads.push(resume);
  schedule();
}
