import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { needs, openTestStore, type StoreKind } from '../../../test/support/stores.js';
import { StoreError, type Param } from '../store/index.js';
import { lastKey, plainTable, type Key, type Slice, type SliceFormat, type TableShape } from './copy.js';
import { liveTables } from './schema.js';
import { verifyTable } from './verify.js';

// Values at the edges of what each store holds: the copy's slices (one text, JSON or COPY's, built by one engine and
// taken apart by the other) must carry each one exactly as the row path does.
const TEXTS = [
  '',
  'quote \' and "double"',
  'back\\slash \\n not a newline',
  'new\nline\ttab\r',
  '\u0001\u001f',
  '😀 ünï €',
  'NULL',
  '\\N',
  '\\.',
  "a,b;'c'",
];
const FLOATS = [0.1 + 0.2, -12345.678901234567, 1e-300, 1.7976931348623157e308, 5, 2 ** 53 + 2];
const BIG = 2 ** 53 - 1;

for (const [from, to, format] of [
  ['sqlite', 'postgres', 'json'],
  ['sqlite', 'postgres', 'copy'],
  ['postgres', 'postgres', 'json'],
  ['postgres', 'postgres', 'copy'],
  ['postgres', 'sqlite', 'json'],
] as [StoreKind, StoreKind, SliceFormat][]) {
  describe(`the copy's slices [${from} → ${to}, ${format}]`, needs('postgres'), () => {
    const replaced =
      format === 'json'
        ? 'rows already on the target are replaced whole'
        : 'a row already on the target fails the COPY alone, and the range upserted as JSON replaces it whole';
    test(`every value arrives exactly; ${replaced}; the slice ends where asked`, async () => {
      const source = await openTestStore(from);
      const target = await openTestStore(to);
      try {
        await source.store.write(async (tx) => {
          for (const [i, text] of TEXTS.entries())
            await tx.run(
              `INSERT INTO accounts (id, username, username_key, email, password_hash, post_karma, comment_karma,
                 created_at, is_admin, failed_logins, login_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
              [`a${i}`, `user${i}`, `user${i}`, i % 2 ? null : text, text, -BIG, BIG, BIG, 0, 0, 0],
            );
          await tx.run(
            `INSERT INTO communities (id, name, name_key, title, description, creator_id, created_at)
             VALUES ('c1', 'c', 'c', 't', ?, 'a0', 1)`,
            [TEXTS.join('|')],
          );
          for (const [i, hot] of FLOATS.entries())
            await tx.run(
              `INSERT INTO posts (id, community_id, author_id, title, body, url, hot, controversy, created_at, edited_at)
               VALUES (?, 'c1', 'a1', ?, ?, NULL, ?, ?, ?, NULL)`,
              [`p${i}`, TEXTS[i % TEXTS.length] as string, i % 2 ? null : 'body', hot, -hot, BIG - i] as Param[],
            );
        });
        // A row the target already holds, different in every column: the slice replaces it.
        await target.store.write((tx) =>
          tx.run(
            `INSERT INTO accounts (id, username, username_key, email, password_hash, post_karma, comment_karma,
               created_at, is_admin, failed_logins, login_after) VALUES ('a2', 'old', 'old', 'old', 'old', 1, 1, 1, 1, 1, 1)`,
          ),
        );
        const shapes = new Map((await liveTables(source.store)).map((t) => [t.name, t]));
        for (const name of ['accounts', 'communities', 'posts']) {
          const table = plainTable(shapes.get(name) as TableShape);
          const until = (await lastKey(source.store, table)) as Key;
          // Two rows a slice: the slices end at the second key, then at the copy's end with fewer rows than asked.
          let after: Key | null = null;
          const ends: unknown[] = [];
          for (;;) {
            const slice: Slice | undefined = await table.readSlice?.(source.store, after, 2, until, format);
            assert.ok(slice, `${name} has the slice path`);
            if (slice.count === 0) break;
            const start = after;
            if (format === 'json')
              await target.store.write((tx) => table.upsertSlice?.(tx, target.store.dialect, slice) as Promise<void>);
            else
              await target.store.bulkWrite(async (tx) => {
                // As the migrator does: a key the target holds already fails the COPY with nothing of it written,
                // and the transaction goes on to write the slice's range again as JSON.
                const refused = await table.upsertSlice?.(tx, target.store.dialect, slice).then(
                  () => null,
                  (error: unknown) => error,
                );
                const holds =
                  name === 'accounts' && (start === null || String(start[0]) < 'a2') && String(slice.last[0]) >= 'a2';
                if (!holds) return assert.equal(refused, null);
                assert.ok(refused instanceof StoreError && refused.kind === 'unique', String(refused));
                const again = (await table.readSlice?.(source.store, start, null, slice.last, 'json')) as Slice;
                assert.equal(again.count, slice.count);
                await table.upsertSlice?.(tx, target.store.dialect, again);
              });
            ends.push(slice.last[0]);
            after = slice.last;
          }
          const all = await source.store.q.all<{ id: string }>(`SELECT id FROM ${name} ORDER BY id`);
          const expected = all.filter((_, i) => i % 2 === 1).map((r) => r.id);
          if (all.length % 2 === 1) expected.push(until[0] as string);
          assert.deepEqual(ends, expected, `${name}: each slice's last key`);

          const verdict = await verifyTable(source.store, target.store, table, 100);
          assert.deepEqual([verdict.mismatches, verdict.keys, verdict.targetRows], [0, [], all.length], name);
          assert.deepEqual(
            await table.readChunk(target.store, null, 100),
            await table.readChunk(source.store, null, 100),
            `${name}: the same rows, value for value`,
          );
        }
        const posts = await target.store.q.all<{ hot: number }>('SELECT hot FROM posts ORDER BY id');
        assert.deepEqual(
          posts.map((p) => p.hot),
          FLOATS,
        );
      } finally {
        await source.close();
        await target.close();
      }
    });
  });
}
