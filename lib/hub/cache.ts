/**
 * The Hugging Face Hub cache, in the layout of Python's huggingface_hub, so that either side uses what the
 * other downloaded:
 *
 *   $HF_HUB_CACHE | $HF_HOME/hub | $XDG_CACHE_HOME/huggingface/hub | ~/.cache/huggingface/hub
 *     models--ORG--NAME/
 *       blobs/<etag>                      file contents, named by the Hub's ETag (sha256 for LFS files)
 *       blobs/<etag>.incomplete           a download in progress (resumed with an HTTP Range request)
 *       refs/<revision>                   the commit a branch or tag resolved to (absent for a commit)
 *       snapshots/<commit>/<file>         relative symlink to ../../blobs/<etag>
 *       .no_exist/<commit>/<file>         empty: the repository has no such file at that commit
 *
 * A blob appears under its final name only complete and verified (rename), and a snapshot entry only
 * after its blob (symlink made under a temporary name, then renamed), so a killed download never leaves a
 * file that looks complete.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { writeFileAtomic } from '../model_dir/atomic.js';

/** The cache root, resolved from the environment as huggingface_hub does. */
export function hubCacheDir(): string {
  const env = process.env;
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE;
  const home = env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
  return join(home, 'hub');
}

/** The token: HF_TOKEN, else the file `huggingface-cli login` writes ($HF_TOKEN_PATH or $HF_HOME/token). */
export function hubToken(): string | undefined {
  const env = process.env;
  if (env.HF_TOKEN) return env.HF_TOKEN.trim();
  const home = env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
  const path = env.HF_TOKEN_PATH || join(home, 'token');
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export const isCommit = (revision: string): boolean => /^[0-9a-f]{40}$/.test(revision);

/** One model repository's folder in the cache. */
export class RepoCache {
  readonly root: string;
  constructor(repo: string, cacheDir = hubCacheDir()) {
    this.root = join(cacheDir, `models--${repo.replace(/\//g, '--')}`);
  }

  blob(etag: string): string {
    return join(this.root, 'blobs', etag);
  }

  snapshotDir(commit: string): string {
    return join(this.root, 'snapshots', commit);
  }

  /** The commit `revision` names in the cache: itself for a commit hash, else refs/<revision>; null when unknown. */
  commitOf(revision: string): string | null {
    if (isCommit(revision)) return revision;
    try {
      const commit = readFileSync(join(this.root, 'refs', revision), 'utf8').trim();
      return isCommit(commit) ? commit : null;
    } catch {
      return null;
    }
  }

  /** The cached file of a snapshot, or null (a dangling link is no file). */
  cachedFile(commit: string, file: string): string | null {
    const path = join(this.snapshotDir(commit), file);
    return existsSync(path) ? path : null;
  }

  /** Whether the cache recorded that the repository lacks `file` at `commit`. */
  knownMissing(commit: string, file: string): boolean {
    return existsSync(join(this.root, '.no_exist', commit, file));
  }

  markMissing(commit: string, file: string): void {
    const path = join(this.root, '.no_exist', commit, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomic(path, '');
  }

  writeRef(revision: string, commit: string): void {
    if (revision === commit) return;
    const path = join(this.root, 'refs', revision);
    mkdirSync(dirname(path), { recursive: true });
    if (this.commitOf(revision) !== commit) writeFileAtomic(path, commit);
  }

  /** snapshots/<commit>/<file> → the blob, as a relative symlink, placed atomically. */
  link(commit: string, file: string, etag: string): string {
    const path = join(this.snapshotDir(commit), file);
    mkdirSync(dirname(path), { recursive: true });
    const target = relative(dirname(path), this.blob(etag));
    const tmp = `${path}.${process.pid}.link`;
    try {
      unlinkSync(tmp);
    } catch {
      /* none left over */
    }
    symlinkSync(target, tmp);
    renameSync(tmp, path);
    return path;
  }
}
