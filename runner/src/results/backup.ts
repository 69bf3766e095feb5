/** `data` of `.dify-ci/results/backup.json` (deploy/backup.ts): the index.json of the backup, and where it is. */

export interface BackupIndexEntry {
  key?: string;
  id: string;
  name: string;
  mode: string;
  /** Published workflow id; null for chat modes and unpublished apps. */
  version: string | null;
  exported: 'published' | 'draft' | 'live';
  hash: string;
  file: string;
}

export interface BackupIndex {
  env: string;
  server: string;
  createdAt: string;
  all: boolean;
  apps: BackupIndexEntry[];
  skipped: { key?: string; name: string; reason: string }[];
}

export type BackupData = BackupIndex & { outDir: string };
