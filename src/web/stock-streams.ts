import type { ServerResponse } from 'node:http';
import { AppError } from '../platform/errors.js';

/** What a drop page's stream sends: the drop's JSON (`GET /api/v1/drops/:id`), as its `stock` event. */
export interface StockStreamsDeps {
  /** The drop's status as JSON text; rejects (not_found) for an unknown drop. */
  statusText(dropId: string): string | Promise<string>;
  /** Subscribes to every committed change of a drop's `sold`, by any process (null: any drop). */
  watchSold(watcher: (dropId: string | null) => void): () => void;
  /** Streams open at once, in all (each holds a socket and a few hundred bytes). */
  maxStreams: number;
  /** Streams open at once from one client address. */
  maxPerClient: number;
  /** A comment line this often keeps proxies from closing a quiet stream. */
  heartbeatMs: number;
}

interface Watched {
  streams: Set<ServerResponse>;
  /** The status change the clock brings (start, end), when one is ahead. */
  timer: NodeJS.Timeout | null;
  /** A broadcast is coming this turn: later changes of the same turn ride along. */
  pending: boolean;
}

/** A stream whose client does not read is dropped past this much unsent data. */
const MAX_BUFFERED = 64 * 1024;
/** setTimeout's longest delay. */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Live stock for drop pages over Server-Sent Events: one broadcast per
 * change of a drop's stock (changes committed in the same event-loop turn
 * are sent once, with the latest value), made once as text and written to
 * every open page of that drop; another at the moment the drop starts or
 * ends. Bounded: a total and a per-address number of streams, and a client
 * that stops reading is dropped instead of buffered for.
 */
export function createStockStreams(deps: StockStreamsDeps) {
  const watched = new Map<string, Watched>();
  const perClient = new Map<string, number>();
  let open = 0;
  let sent = 0;

  const write = (res: ServerResponse, text: string) => {
    if (res.writableLength > MAX_BUFFERED) res.destroy();
    else res.write(text);
  };

  /** Sends the drop's status now to every open stream of it, and schedules the next timed change. */
  async function broadcast(dropId: string): Promise<void> {
    const entry = watched.get(dropId);
    if (!entry) return;
    entry.pending = false;
    let json: string;
    try {
      json = await deps.statusText(dropId);
    } catch {
      return; // the drop is gone or the store is away: the pages keep their last value and poll if the stream ends
    }
    const event = `event: stock\ndata: ${json}\n\n`;
    for (const res of entry.streams) write(res, event);
    sent += entry.streams.size;
    schedule(dropId, entry, json);
  }

  function schedule(dropId: string, entry: Watched, json: string): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    const drop = JSON.parse(json) as { startsAt: number; endsAt: number | null; serverTime: number; status: string };
    const next =
      drop.status === 'scheduled'
        ? drop.startsAt
        : drop.endsAt !== null && drop.status !== 'ended'
          ? drop.endsAt
          : null;
    if (next === null) return;
    // A few ms late rather than early: the status is read again at that moment.
    entry.timer = setTimeout(() => void broadcast(dropId), Math.min(MAX_DELAY, next - drop.serverTime + 5));
    entry.timer.unref();
  }

  const changed = (dropId: string) => {
    const entry = watched.get(dropId);
    if (!entry || entry.pending) return;
    entry.pending = true;
    setImmediate(() => void broadcast(dropId));
  };
  const stopWatching = deps.watchSold((dropId) => {
    if (dropId !== null) return changed(dropId);
    for (const id of watched.keys()) changed(id);
  });

  const heartbeat = setInterval(() => {
    for (const entry of watched.values()) for (const res of entry.streams) write(res, ': keep-alive\n\n');
  }, deps.heartbeatMs);
  heartbeat.unref();

  return {
    /**
     * Opens a stream of drop `dropId` on `res` (whose request came from `client`): the
     * current status at once, then every change. Refused (before anything is written)
     * for an unknown drop or past a limit.
     */
    async open(dropId: string, client: string, res: ServerResponse): Promise<void> {
      const json = await deps.statusText(dropId); // not_found before the stream starts
      if (open >= deps.maxStreams)
        throw new AppError('store_unavailable', 'too many live pages are open right now; the page polls instead');
      if ((perClient.get(client) ?? 0) >= deps.maxPerClient)
        throw new AppError('rate_limited', 'too many live pages are open from this address', { retryAfter: 30 });
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      });
      res.write(`retry: 2000\nevent: stock\ndata: ${json}\n\n`);
      let entry = watched.get(dropId);
      if (!entry) {
        entry = { streams: new Set(), timer: null, pending: false };
        watched.set(dropId, entry);
        schedule(dropId, entry, json);
      }
      entry.streams.add(res);
      open++;
      perClient.set(client, (perClient.get(client) ?? 0) + 1);
      const here = entry;
      // A stream never ends by itself, so its connection carries nothing after it: closed with it
      // (kept now: by the time the response closes it has let go of its socket).
      const socket = res.socket;
      res.once('close', () => {
        socket?.destroy();
        here.streams.delete(res);
        open--;
        const left = (perClient.get(client) ?? 1) - 1;
        if (left > 0) perClient.set(client, left);
        else perClient.delete(client);
        if (here.streams.size === 0) {
          if (here.timer) clearTimeout(here.timer);
          watched.delete(dropId);
        }
      });
    },
    /** Streams open now, and events written since the start (for the metrics). */
    stats: () => ({ open, sent }),
    /** Closes every stream (at shutdown: the pages reconnect to another process, or poll). */
    close(): void {
      stopWatching();
      clearInterval(heartbeat);
      for (const entry of watched.values()) {
        if (entry.timer) clearTimeout(entry.timer);
        // Destroyed, not ended: an ended stream's connection would stay open as keep-alive and hold the server's close.
        for (const res of entry.streams) res.destroy();
      }
      watched.clear();
    },
  };
}

export type StockStreams = ReturnType<typeof createStockStreams>;
