// The reference of issue 4: a bare Fastify + better-sqlite3 server with only
// the drop status read and the conditional increment, nothing else (no
// auth, orders, idempotency, outbox, metrics). bench/drops.mjs runs it with
// the same wrk script as Agora, so the two figures come from one run.
//   node bench/drops-reference.mjs <database file> <drop id>   (prints its URL, then serves)
import Database from 'better-sqlite3';
import Fastify from 'fastify';

const [file, dropId] = process.argv.slice(2);
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS drops (id TEXT PRIMARY KEY, stock INTEGER NOT NULL, sold INTEGER NOT NULL)');
const status = db.prepare('SELECT id, stock, sold FROM drops WHERE id = ?');
const reserve = db.prepare('UPDATE drops SET sold = sold + ? WHERE id = ? AND sold + ? <= stock RETURNING sold');
db.prepare('INSERT OR IGNORE INTO drops (id, stock, sold) VALUES (?, 1000000000, 0)').run(dropId);

const app = Fastify();
app.get('/api/v1/drops/:id', async (request, reply) => {
  const row = status.get(request.params.id);
  if (!row) return reply.code(404).send({ error: { code: 'not_found' } });
  return {
    id: row.id,
    stock: row.stock,
    sold: row.sold,
    remaining: row.stock - row.sold,
    status: row.sold < row.stock ? 'live' : 'sold_out',
    serverTime: Date.now(),
  };
});
app.post('/api/v1/drops/:id/orders', async (request, reply) => {
  const quantity = request.body?.quantity ?? 1;
  const row = reserve.get(quantity, request.params.id, quantity);
  if (!row) return reply.code(409).send({ error: { code: 'sold_out' } });
  return reply.code(201).send({ dropId: request.params.id, quantity, sold: row.sold });
});
const url = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(url);
