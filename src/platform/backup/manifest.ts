import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import type { Dialect } from '../store/index.js';

/**
 * What a backup was, written beside its file (`<file>.json`) once the file is
 * whole: a backup without one is unfinished and is neither restored nor kept.
 * The row counts are the source's, read in the same snapshot as the copy.
 */
export interface Manifest {
  format: typeof FORMAT;
  dialect: Dialect;
  /** The backup file's name (beside the manifest). */
  file: string;
  bytes: number;
  sha256: string;
  /** When the snapshot was taken (ms since the epoch). */
  takenAt: number;
  /** The highest schema migration applied at the snapshot. */
  schemaVersion: number;
  /** Rows per table at the snapshot. */
  tables: Record<string, number>;
  /** When a restore of it into a scratch store passed verification. */
  verifiedAt?: number;
}

export const FORMAT = 'agora-backup/1';

/** A backup that cannot be used, with a message that says why (the CLI prints it; exit code 1). */
export class BackupError extends Error {
  constructor(
    readonly code: 'no_manifest' | 'damaged' | 'not_empty' | 'wrong_store' | 'mismatch' | 'tool' | 'newer_schema',
    message: string,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

export const manifestPath = (file: string) => `${file}.json`;

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The manifest of backup file `file`, refused unless it is one of ours. */
export async function readManifest(file: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(manifestPath(file), 'utf8');
  } catch {
    throw new BackupError(
      'no_manifest',
      `${file}: no manifest beside it (${manifestPath(file)}); a backup without one is unfinished or not Agora's`,
    );
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch {
    throw new BackupError('damaged', `${manifestPath(file)} is not valid JSON: the manifest is damaged`);
  }
  if (manifest?.format !== FORMAT || typeof manifest.sha256 !== 'string' || typeof manifest.tables !== 'object')
    throw new BackupError('damaged', `${manifestPath(file)} is not an ${FORMAT} manifest`);
  return manifest;
}

/** Refuses a file whose size or SHA-256 is not its manifest's. */
export async function checkFile(file: string, manifest: Manifest): Promise<void> {
  const size = (await stat(file)).size;
  if (size !== manifest.bytes)
    throw new BackupError('damaged', `${file} is damaged: ${size} bytes, its manifest says ${manifest.bytes}`);
  if ((await sha256Of(file)) !== manifest.sha256)
    throw new BackupError('damaged', `${file} is damaged: its SHA-256 differs from its manifest's`);
}

/** Writes the manifest whole or not at all (a temporary file renamed over it). */
export async function writeManifest(file: string, manifest: Manifest): Promise<void> {
  const path = manifestPath(file);
  await writeFile(`${path}.partial`, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(`${path}.partial`, path);
}
