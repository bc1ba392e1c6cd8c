// The web app's benchmarks, one run:
//   page    GET /p/:id on the 10,000-comment thread (its first 200 comments, rendered as HTML)
//           against the JSON tree read of the same comments (GET /api/v1/posts/:id/comments?limit=200),
//           in turns for --rounds rounds, each one's median round compared: signed out, then signed in
//           (a session cookie against a bearer token of the same account)
//   weight  that page's HTML, CSS and script compressed (gzip), and the HTML without the comments' own text
//   stream  --streams drop pages' event streams open on one process; an order is placed and each
//           stream's time to receive the new stock is measured from the order's answer
//   node bench/pages.mjs [--store sqlite|postgres] [--duration 10] [--connections 50] [--rounds 3]
//                        [--streams 10000] [--only page,weight,stream]
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { seedComments } from './comments-data.mjs';
import { alternate, api, benchStore, ensureWrk, parseArgs, startServer, wrk } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2), {
  store: 'sqlite',
  duration: 10,
  connections: 50,
  rounds: 3,
  streams: 10_000,
  only: 'page,weight,stream',
});
const only = new Set(opts.only.split(','));
ensureWrk();
const store = await benchStore(opts.store);
console.log(`[bench] seeding ${opts.store} ...`);
const data = await seedComments(store.url, { sizes: [10_000] });
const post = data.posts[0];
const server = await startServer({
  AGORA_DATABASE_URL: store.url,
  AGORA_LIVE_STREAMS_MAX: String(opts.streams + 100),
  AGORA_LIVE_STREAMS_PER_CLIENT: String(opts.streams + 100),
});
const lines = [];
/** Each figure as it comes (a later failure keeps what was measured), and all of them again at the end. */
const say = (line) => {
  console.log(line);
  lines.push(line);
};
/** fetch, once more when a kept-alive connection was closed by the server just as it was reused (after a long wrk run). */
const get = (url, init) => fetch(url, init).catch(() => fetch(url, init));
const fmt = (r) => `${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}`;
const verdict = (ok, text) => `goal ${text}: ${ok ? 'met' : 'NOT met'}`;

try {
  // An account of our own: its session is both the page's cookie and the API's bearer token.
  await api(server.base, 'POST', '/api/v1/accounts', { username: 'bench_reader', password: 'bench password 1' });
  const { token } = await api(server.base, 'POST', '/api/v1/sessions', {
    username: 'bench_reader',
    password: 'bench password 1',
  });
  // The drop the stream test sells from, made now: the API calls after a long wrk run could meet a closed connection.
  await api(server.base, 'POST', '/api/v1/communities', { name: 'bench_shop', title: 'Shop' }, token);
  const drop = await api(
    server.base,
    'POST',
    '/api/v1/drops',
    {
      communityName: 'bench_shop',
      name: 'Bench seeds',
      stock: 1_000_000,
      priceCents: 100,
      currency: 'EUR',
      startsAt: Date.now(),
      perCustomerLimit: 10,
    },
    token,
  );
  const pageUrl = `${server.base}/p/${post.id}`;
  const jsonUrl = `${server.base}/api/v1/posts/${post.id}/comments?sort=best&limit=200`;
  // A returning browser: its session cookie and the form-token nonce its first signed-in page gave it.
  const first = await get(pageUrl, { headers: { cookie: `agora_session=${token}` } });
  await first.arrayBuffer();
  const nonce = /agora_csrf=([^;]+)/.exec(first.headers.get('set-cookie') ?? '')?.[1];
  if (!nonce) throw new Error('the signed-in page set no form-token cookie');
  const browser = `agora_session=${token}; agora_csrf=${nonce}`;

  if (only.has('page')) {
    for (const [who, pageHeaders, jsonHeaders, goal] of [
      ['signed out', {}, {}, { rps: 0.5, p99: 2 }],
      ['signed in', { cookie: browser }, { authorization: `Bearer ${token}` }, { rps: 0.7, p99: null }],
    ]) {
      const run = { connections: opts.connections, duration: opts.duration };
      wrk(pageUrl, { ...run, duration: 2, headers: pageHeaders });
      wrk(jsonUrl, { ...run, duration: 2, headers: jsonHeaders });
      const [page, json] = alternate(opts.rounds, [
        () => wrk(pageUrl, { ...run, headers: pageHeaders }),
        () => wrk(jsonUrl, { ...run, headers: jsonHeaders }),
      ]).map((x) => x.median);
      const rps = page.rps / json.rps;
      const p99 = page.p99 / json.p99;
      say(`post page, ${post.size}-comment thread, first 200 comments, ${who} (${opts.store}): ${fmt(page)}`);
      say(`JSON tree read, same comments, ${who} (${opts.store}): ${fmt(json)}`);
      say(
        `${who}: throughput ratio ${rps.toFixed(2)} (${verdict(rps >= goal.rps, `>= ${goal.rps}`)})` +
          (goal.p99
            ? `, p99 ratio ${p99.toFixed(2)} (${verdict(p99 <= goal.p99, `<= ${goal.p99}`)})`
            : `, p99 ratio ${p99.toFixed(2)}`),
      );
    }
  }

  if (only.has('weight')) {
    const html = await (await get(pageUrl)).text();
    const asset = (re) => re.exec(html)?.[1];
    const [css, js] = await Promise.all(
      [asset(/href="(\/assets\/site\.[0-9a-f]+\.css)"/), asset(/src="(\/assets\/site\.[0-9a-f]+\.js)"/)].map(
        async (p) => Buffer.from(await (await get(server.base + p)).arrayBuffer()),
      ),
    );
    const z = (b) => gzipSync(b, { level: 6 }).length;
    // The comments' own text: each rendered body and each author's name, emptied.
    const bare = html
      .replace(/(<div class="md">)[\s\S]*?(<\/div>)/g, '$1$2')
      .replace(/(<span class="author">)[^<]*/g, '$1');
    const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
    const without = z(Buffer.from(bare)) + z(css) + z(js);
    say(
      `post page weight (gzip): HTML ${kb(z(Buffer.from(html)))} (${kb(html.length)} raw), CSS ${kb(z(css))}, script ${kb(z(js))}; ` +
        `without the comments' own text ${kb(without)} (${verdict(without < 100 * 1024, '< 100 KB')})`,
    );
  }

  if (only.has('stream')) {
    const { port } = new URL(server.base);
    const streams = [];
    // Each stream: a raw connection, its events parsed as they come; `got` is when the sale's stock arrived.
    const open = () =>
      new Promise((resolve, reject) => {
        const s = { socket: connect(Number(port), '127.0.0.1'), buffer: '', first: false, got: null };
        s.socket.setEncoding('utf8');
        s.socket.once('error', reject);
        s.socket.on('data', (chunk) => {
          s.buffer += chunk;
          let end;
          while ((end = s.buffer.indexOf('\n\n')) >= 0) {
            const block = s.buffer.slice(0, end);
            s.buffer = s.buffer.slice(end + 2);
            const remaining = /"remaining":(\d+)/.exec(block)?.[1];
            if (remaining === undefined) continue;
            if (!s.first) {
              s.first = true;
              resolve(s);
            } else if (Number(remaining) < 1_000_000 && s.got === null) s.got = performance.now();
          }
        });
        s.socket.write(`GET /drops/${drop.id}/stream HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n`);
      });
    const openedAt = performance.now();
    for (let i = 0; i < opts.streams; i += 250)
      streams.push(...(await Promise.all(Array.from({ length: Math.min(250, opts.streams - i) }, open))));
    const openSeconds = (performance.now() - openedAt) / 1000;
    const before = performance.now();
    await get(`${server.base}/api/v1/drops/${drop.id}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': 'bench-1' },
      body: JSON.stringify({ quantity: 1 }),
    });
    const ordered = performance.now();
    const until = ordered + 10_000;
    while (streams.some((s) => s.got === null) && performance.now() < until)
      await new Promise((r) => setTimeout(r, 10));
    const delays = streams
      .filter((s) => s.got !== null)
      .map((s) => s.got - ordered)
      .sort((a, b) => a - b);
    const pct = (p) => (delays[Math.min(delays.length - 1, Math.floor((p / 100) * delays.length))] ?? NaN).toFixed(1);
    const p99 = Number(pct(99));
    say(
      `live stock: ${streams.length} drop-page streams open on one process (opened in ${openSeconds.toFixed(1)} s); ` +
        `one sale reached ${delays.length} of them, delivery after the order's answer (${(ordered - before).toFixed(1)} ms): ` +
        `p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${pct(100)} ms (${verdict(delays.length === streams.length && p99 <= 1000, 'all reached, p99 <= 1000 ms')})`,
    );
    for (const s of streams) s.socket.destroy();
  }
} finally {
  await server.stop();
  store.stop();
}
console.log(`\n${lines.join('\n')}`);
