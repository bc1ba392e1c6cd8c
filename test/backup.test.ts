import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../src/config.js';
import {
  BackupError,
  listBackups,
  pruneBackups,
  restoreBackup,
  takeBackup,
  verifyBackup,
  type Manifest,
} from '../src/platform/backup/index.js';
import { startTestAppOn, TEST_ENV, type TestApp } from './support/app.js';
import { testEnv } from './support/env.js';
import { CLI } from './support/server-process.js';
import { describeStores, freshDatabase, STORE_KINDS, type StoreKind } from './support/stores.js';

const PASSWORD = 'a good long password';

describeStores('backups: taken online, restored, verified', (kind: StoreKind) => {
  let db: { url: string; drop(): Promise<void> };
  let app: TestApp;
  let token: string;
  let dir: string;
  const cleanups: (() => Promise<void>)[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agora-backups-'));
    db = await freshDatabase(kind);
    app = await startTestAppOn(db);
    await app.request('POST', '/api/v1/accounts', { body: { username: 'keeper', password: PASSWORD } });
    token = (await app.request('POST', '/api/v1/sessions', { body: { username: 'keeper', password: PASSWORD } })).body
      .token;
    await app.request('POST', '/api/v1/communities', { token, body: { name: 'vault', title: 'Vault' } });
  });
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh store restored from `file`, served: its posts in `vault` and whether keeper can sign in. */
  const restoreAndServe = async (file: string) => {
    const target = await freshDatabase(kind);
    const manifest = await restoreBackup(file, target.url);
    const restored = await startTestAppOn(target);
    cleanups.push(() => restored.close());
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await restored.request(
        'GET',
        `/api/v1/communities/vault/posts?sort=new&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.equal(page.status, 200);
      listed.push(...page.body.items.map((p: { title: string }) => p.title));
      cursor = page.body.nextCursor;
    } while (cursor);
    const signIn = await restored.request('POST', '/api/v1/sessions', {
      body: { username: 'keeper', password: PASSWORD },
    });
    return { manifest, listed, signedIn: signIn.status === 201 };
  };

  test('a backup taken while posts are written holds one moment: restored, it has those rows and serves them', async () => {
    let written = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const r = await app.request('POST', '/api/v1/communities/vault/posts', {
          token,
          body: { title: `Post ${written}` },
        });
        assert.equal(r.status, 201);
        written++;
      }
    })();
    while (written < 20) await new Promise((r) => setTimeout(r, 5));
    const taken = await takeBackup(db.url, dir);
    const atBackup = written;
    while (written < atBackup + 20) await new Promise((r) => setTimeout(r, 5));
    writing = false;
    await writer;

    const posts = taken.manifest.tables.posts!;
    assert.ok(posts >= 20 && posts <= atBackup + 1, `the backup's posts (${posts}) are those written by its moment`);
    assert.ok(written > posts, 'writes went on meanwhile');
    assert.equal(taken.manifest.dialect, kind);
    assert.equal(taken.manifest.verifiedAt, undefined);

    const verified = await verifyBackup(taken.file, db.url);
    assert.ok(verified.verifiedAt! >= verified.takenAt);
    assert.equal((await listBackups(dir)).at(-1)?.manifest.verifiedAt, verified.verifiedAt, 'recorded in the manifest');

    const { manifest, listed, signedIn } = await restoreAndServe(taken.file);
    assert.equal(manifest.sha256, taken.manifest.sha256);
    assert.equal(listed.length, posts, 'the restored site lists every post of the backup, and no later one');
    assert.deepEqual(
      new Set(listed),
      new Set(Array.from({ length: posts }, (_, i) => `Post ${i}`)),
      'the posts written first, in order',
    );
    assert.ok(signedIn, 'an account of the backup signs in on the restored site');
  });

  test('a damaged file, a missing manifest, a store that is not empty: each refused with a clear message', async () => {
    const { file, manifest } = await takeBackup(db.url, dir);
    const refused = async (path: string, url: string, code: BackupError['code'], message: RegExp) => {
      const error = await restoreBackup(path, url).then(
        () => assert.fail('restored'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof BackupError, String(error));
      assert.equal(error.code, code);
      assert.match(error.message, message);
    };

    // One byte changed in the middle of the file.
    const damaged = join(dir, `damaged-${manifest.file}`);
    const bytes = readFileSync(file);
    const middle = Math.floor(bytes.length / 2);
    bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle);
    writeFileSync(damaged, bytes);
    writeFileSync(`${damaged}.json`, JSON.stringify({ ...manifest, file: `damaged-${manifest.file}` }));
    const target = await freshDatabase(kind);
    cleanups.push(() => target.drop());
    await refused(damaged, target.url, 'damaged', /is damaged: its SHA-256 differs from its manifest's/);
    // Cut short.
    writeFileSync(damaged, bytes.subarray(0, bytes.length - 1000));
    await refused(damaged, target.url, 'damaged', /is damaged: \d+ bytes, its manifest says \d+/);
    rmSync(`${damaged}.json`);
    await refused(damaged, target.url, 'no_manifest', /no manifest beside it/);

    // The live store is not empty: nothing is written into it.
    const before = (await app.request('GET', '/api/v1/communities/vault')).body;
    await refused(file, db.url, 'not_empty', /not empty/);
    assert.deepEqual((await app.request('GET', '/api/v1/communities/vault')).body, before);

    // Nothing was restored into the target by the refusals: the good file goes in whole.
    assert.equal((await restoreBackup(file, target.url)).sha256, manifest.sha256);

    // The CLI says the same and exits with 1.
    const other = await freshDatabase(kind);
    cleanups.push(() => other.drop());
    writeFileSync(damaged, bytes);
    writeFileSync(`${damaged}.json`, JSON.stringify({ ...manifest, file: `damaged-${manifest.file}` }));
    const cli = spawnSync(process.execPath, [CLI, 'restore', damaged], {
      env: { ...testEnv(), ...TEST_ENV, AGORA_DATABASE_URL: other.url },
      encoding: 'utf8',
    });
    assert.equal(cli.status, 1, cli.stderr);
    assert.match(cli.stderr, /is damaged: its SHA-256 differs from its manifest's/);
  });

  test('a backup restores only into its own kind of store', { skip: STORE_KINDS.length < 2 }, async () => {
    const { file } = await takeBackup(db.url, dir);
    const elsewhere = await freshDatabase(kind === 'sqlite' ? 'postgres' : 'sqlite');
    cleanups.push(() => elsewhere.drop());
    await assert.rejects(restoreBackup(file, elsewhere.url), (e: unknown) => {
      assert.ok(e instanceof BackupError);
      assert.equal(e.code, 'wrong_store');
      assert.match(e.message, new RegExp(`is a ${kind} backup`));
      return true;
    });
  });

  test('`agora backup --verify` through the CLI, and the server schedule: verified backups, the newest kept', async () => {
    const cli = spawnSync(process.execPath, [CLI, 'backup', '--verify', dir], {
      env: { ...testEnv(), ...TEST_ENV, AGORA_DATABASE_URL: db.url },
      encoding: 'utf8',
    });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /^backup: .*agora-\d{8}T\d{9}Z\.(sqlite|dump) \(/m);
    assert.match(cli.stdout, /^verified: .* every table's rows equal the source's at /m);

    // A server with a backup folder takes one at once (none there is verified), verifies it and exports its age.
    const scheduled = mkdtempSync(join(tmpdir(), 'agora-scheduled-'));
    cleanups.push(async () => rmSync(scheduled, { recursive: true, force: true }));
    const second = await startTestAppOn(await freshDatabase(kind), {
      AGORA_BACKUP_DIR: scheduled,
      AGORA_BACKUP_EVERY: '1h',
      AGORA_BACKUP_KEEP: '2',
    });
    try {
      const age = async () =>
        Number(/^agora_backup_last_verified_age_seconds (\S+)$/m.exec(await second.metrics())?.[1]);
      for (let i = 0; i < 600 && (await age()) < 0; i++) await new Promise((r) => setTimeout(r, 100));
      const ageNow = await age();
      assert.ok(ageNow >= 0 && ageNow < 60, `the last verified backup's age (${ageNow} s)`);
      const found = await listBackups(scheduled);
      assert.equal(found.length, 1);
      assert.ok(found[0]!.manifest.verifiedAt);
    } finally {
      await second.close();
    }
  });
});

test('retention keeps the newest verified backups and removes everything older', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agora-prune-'));
  try {
    const make = (takenAt: number, verified: boolean) => {
      const name = `agora-${takenAt}.sqlite`;
      writeFileSync(join(dir, name), 'x');
      const manifest: Manifest = {
        format: 'agora-backup/1',
        dialect: 'sqlite',
        file: name,
        bytes: 1,
        sha256: '',
        takenAt,
        schemaVersion: 1,
        tables: {},
        ...(verified ? { verifiedAt: takenAt + 1 } : {}),
      };
      writeFileSync(join(dir, `${name}.json`), JSON.stringify(manifest));
    };
    make(1, true);
    make(2, false);
    make(3, true);
    make(4, false);
    make(5, true);
    make(6, false); // newer than every verified one: being verified, say
    writeFileSync(join(dir, 'agora-7.sqlite.partial'), 'x'); // a run in progress
    assert.deepEqual(await pruneBackups(dir, 5), [], 'fewer than 5 verified: nothing removed');
    const removed = await pruneBackups(dir, 2);
    assert.deepEqual(
      removed.map((f) => f.split('/').at(-1)),
      ['agora-1.sqlite', 'agora-2.sqlite'],
    );
    assert.deepEqual(
      (await listBackups(dir)).map((b) => b.manifest.takenAt),
      [3, 4, 5, 6],
    );
    // An unfinished file is removed once it is stale (a run that stopped), not while a run may be writing it.
    assert.deepEqual(
      (await pruneBackups(dir, 2, () => Date.now() + 2 * 3_600_000)).map((f) => f.split('/').at(-1)),
      ['agora-7.sqlite.partial'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('AGORA_BACKUP_EVERY takes an interval of at least a minute', () => {
  assert.equal(loadConfig({}).backupEveryMs, 86_400_000);
  assert.equal(loadConfig({ AGORA_BACKUP_EVERY: '30m' }).backupEveryMs, 1_800_000);
  assert.equal(loadConfig({ AGORA_BACKUP_EVERY: '6h' }).backupEveryMs, 21_600_000);
  assert.equal(loadConfig({ AGORA_BACKUP_EVERY: '90' }).backupEveryMs, 90_000);
  for (const bad of ['10s', '0', 'daily', '1.5h', '-1d'])
    assert.throws(() => loadConfig({ AGORA_BACKUP_EVERY: bad }), /AGORA_BACKUP_EVERY/, bad);
});
