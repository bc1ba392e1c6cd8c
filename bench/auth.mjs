// Token checks must be cheap: authenticated GET /api/v1/me against
// GET /healthz in the same run (issue: foundation, acceptance 7).
//   node bench/auth.mjs [--store sqlite|postgres] [--duration 10] [--connections 50]
import { api, benchStore, ensureWrk, parseArgs, startServer, wrk } from './lib.mjs';

const opts = parseArgs(process.argv.slice(2), { store: 'sqlite', duration: 10, connections: 50, rounds: 3 });
ensureWrk();
const store = await benchStore(opts.store);
const server = await startServer({ AGORA_DATABASE_URL: store.url });
try {
  await api(server.base, 'POST', '/api/v1/accounts', { username: 'bench_user', password: 'bench-password' });
  const { token } = await api(server.base, 'POST', '/api/v1/sessions', { username: 'bench_user', password: 'bench-password' });
  const common = { connections: opts.connections, duration: opts.duration };
  const auth = { ...common, headers: { authorization: `Bearer ${token}` } };
  wrk(`${server.base}/healthz`, { ...common, duration: 2 }); // warm-up
  wrk(`${server.base}/api/v1/me`, { ...auth, duration: 2 });
  // The load generator shares the two cores: alternate the routes and keep
  // the median round of each, so that one noisy round does not decide.
  const healths = [];
  const mes = [];
  for (let round = 0; round < opts.rounds; round++) {
    healths.push(wrk(`${server.base}/healthz`, common));
    mes.push(wrk(`${server.base}/api/v1/me`, auth));
  }
  const median = (runs) => [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)];
  const health = median(healths);
  const me = median(mes);
  console.log(`rounds (req/s): healthz ${healths.map((r) => r.rps.toFixed(0)).join(', ')}; me ${mes.map((r) => r.rps.toFixed(0)).join(', ')}`);
  console.log(`--- GET /healthz (${opts.store}), median round\n${health.out}`);
  console.log(`--- GET /api/v1/me with a bearer token (${opts.store}), median round\n${me.out}`);
  const ratio = me.rps / health.rps;
  console.log(
    `auth ${opts.store}: healthz ${health.rps.toFixed(0)} req/s (p50 ${health.p50} ms, p99 ${health.p99} ms); ` +
      `me ${me.rps.toFixed(0)} req/s (p50 ${me.p50} ms, p99 ${me.p99} ms); me/healthz = ${(ratio * 100).toFixed(1)} % (goal >= 70 %)`,
  );
  if (me.non2xx > 0 || health.non2xx > 0) console.log(`WARNING: non-2xx answers: me ${me.non2xx}, healthz ${health.non2xx}`);
} finally {
  await server.stop();
  store.stop();
}
