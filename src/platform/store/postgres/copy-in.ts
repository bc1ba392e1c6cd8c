import type pg from 'pg';

/** The parts of pg's connection a COPY uses (pg/lib/connection.js). */
interface Connection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Uint8Array): void;
  endCopyFrom(): void;
}

/**
 * `COPY … FROM STDIN` with `data` (whole, in the format `sql` names) as its input,
 * on a client of pg's: answered with the rows copied. pg runs a query object
 * that has `submit` as it runs its own (client.js): it sends the statement,
 * and when the server asks for the input the bytes go out in one message,
 * then the end. An error (a row the table refuses, a lost connection) fails
 * the promise once; the client is ready for the next statement after it.
 */
export function copyIn(client: pg.ClientBase, sql: string, data: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    let failed: unknown = null;
    let copied = 0;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      if (failed) reject(failed);
      else resolve(copied);
    };
    const query = {
      submit: (connection: Connection) => connection.query(sql),
      handleCopyInResponse(connection: Connection) {
        // pg's writer takes a Buffer (a Uint8Array moved from another thread is not one): a view, not a copy.
        connection.sendCopyFromChunk(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        connection.endCopyFrom();
      },
      handleCommandComplete(message: { text: string }) {
        copied = Number(/^COPY (\d+)/.exec(message.text)?.[1] ?? 0);
      },
      handleError(error: unknown) {
        failed ??= error;
        // A lost connection ends here (no ready-for-query follows); a refused row is answered by one after it.
        settle();
      },
      handleReadyForQuery: settle,
      handleEmptyQuery: () => undefined,
      handleRowDescription: () => undefined,
      handleDataRow: () => undefined,
      handlePortalSuspended: () => undefined,
      handleCopyData: () => undefined,
    };
    client.query(query as unknown as pg.Submittable);
  });
}
