/**
 * The environment a test hands to a process it starts: the caller's, without
 * any Agora setting (`AGORA_*`) exported in the shell that ran `npm test` —
 * tests say the settings they need. The test harness's own variables
 * (`AGORA_TEST_*`, `AGORA_FUZZ_*`, `AGORA_PG_BIN`, `AGORA_CHROMIUM`) stay.
 */
export function testEnv(environment: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(environment)) {
    if (key.startsWith('AGORA_') && !/^AGORA_(TEST_|FUZZ_|PG_BIN$|CHROMIUM$)/.test(key)) continue;
    out[key] = value;
  }
  return out;
}
