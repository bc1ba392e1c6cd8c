// Token checks must be cheap: authenticated GET /api/v1/me against
// GET /healthz in the same run (issue: foundation, acceptance 7).
//   node bench/auth.mjs [--store sqlite|postgres] [--duration 10] [--connections 50]
import { alternate, api, benchStore, ensureWrk, parseArgs, startServer, wrk } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2), { store: 'sqlite', duration: 10, connections: 50, rounds: 3 });
ensureWrk();
const store = await benchStore(opts.store);
const server = await startServer({ AGORA_DATABASE_URL: store.url });
try {
  await api(server.base, 'POST', '/api/v1/accounts', { username: 'bench_user', password: 'bench-password' });
  const { token } = await api(server.base, 'POST', '/api/v1/sessions', {
    username: 'bench_user',
    password: 'bench-password',
  });
  const common = { connections: opts.connections, duration: opts.duration };
  const auth = { ...common, headers: { authorization: `Bearer ${token}` } };
  wrk(`${server.base}/healthz`, { ...common, duration: 2 }); // warm-up
  wrk(`${server.base}/api/v1/me`, { ...auth, duration: 2 });
  const [healths, mes] = alternate(opts.rounds, [
    () => wrk(`${server.base}/healthz`, common),
    () => wrk(`${server.base}/api/v1/me`, auth),
  ]);
  const health = healths.median;
  const me = mes.median;
  console.log(
    `rounds (req/s): healthz ${healths.rounds.map((r) => r.rps.toFixed(0)).join(', ')}; me ${mes.rounds.map((r) => r.rps.toFixed(0)).join(', ')}`,
  );
  console.log(`--- GET /healthz (${opts.store}), median round\n${health.out}`);
  console.log(`--- GET /api/v1/me with a bearer token (${opts.store}), median round\n${me.out}`);
  const ratio = me.rps / health.rps;
  console.log(
    `auth ${opts.store}: healthz ${health.rps.toFixed(0)} req/s (p50 ${health.p50} ms, p99 ${health.p99} ms); ` +
      `me ${me.rps.toFixed(0)} req/s (p50 ${me.p50} ms, p99 ${me.p99} ms); me/healthz = ${(ratio * 100).toFixed(1)} % (goal >= 70 %)`,
  );
  if (me.non2xx > 0 || health.non2xx > 0)
    console.log(`WARNING: non-2xx answers: me ${me.non2xx}, healthz ${health.non2xx}`);
} finally {
  await server.stop();
  store.stop();
}
