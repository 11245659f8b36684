/**
 * Models from the Hugging Face Hub: `hf:ORG/NAME[@REVISION]` becomes a local snapshot directory
 * (lib/hub/cache.ts: the same cache as Python's huggingface_hub, so each side uses what the other fetched).
 *
 * Files come through `{HF_ENDPOINT}/{repo}/resolve/{revision}/{file}` as huggingface_hub fetches them: a
 * HEAD request (relative redirects followed: renamed repos) gives X-Repo-Commit, the ETag (X-Linked-Etag
 * for LFS files: their sha256) and, for LFS files, an absolute redirect to the storage that serves the
 * bytes. After the first file the others are asked for at that commit, and a file the snapshot already
 * has costs no request. Downloads go to blobs/<etag>.incomplete, resume with a Range request (after an
 * interrupted transfer, here or in a killed earlier run), are checked (size; sha256 for LFS files) and
 * renamed into place. HF_TOKEN (or the saved login token) is sent to the endpoint only, never to the
 * storage host. HF_HUB_OFFLINE=1 uses the cache alone; so does an unreachable endpoint when the cache has
 * the model (said on stderr).
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { codedError, printable, rangeError, type CodedError } from './errors.js';
import { version } from './device.js';
import { RepoCache, hubToken, isCommit } from './hub/cache.js';
import { readShardIndex } from './safetensors.js';

export { hubCacheDir } from './hub/cache.js';

export interface HubId {
  repo: string;
  revision: string;
}

const PART = /^[A-Za-z0-9](?:[\w.-]{0,94}[A-Za-z0-9_])?$/;

/** `hf:ORG/NAME[@REVISION]` → { repo, revision } (revision 'main' by default); null for anything not starting with `hf:`. */
export function parseHubId(spec: string, name = 'model'): HubId | null {
  if (!spec.startsWith('hf:')) return null;
  const at = spec.indexOf('@');
  const repo = spec.slice(3, at < 0 ? undefined : at);
  const revision = at < 0 ? 'main' : spec.slice(at + 1);
  const parts = repo.split('/');
  if (parts.length > 2 || !parts.every((p) => PART.test(p) && !p.includes('--') && !p.includes('..')) || !/^[^\s?#]+$/.test(revision) || revision.includes('..'))
    throw rangeError(name, "a Hugging Face model id 'hf:ORG/NAME' or 'hf:ORG/NAME@REVISION'", spec);
  return { repo, revision };
}

const TOKENIZER_FILES = ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
/** A classifier trained here and pushed to the Hub carries these too (Classifier.load reads them). */
const CLASSIFIER_FILES = ['thresholds.json', 'training.json', 'report.json'];

const offline = () => /^(1|on|true|yes)$/i.test(process.env.HF_HUB_OFFLINE ?? '');
const endpoint = () => (process.env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
const seconds = (v: string | undefined, dflt: number) => (Number(v) > 0 ? Number(v) : dflt) * 1000;

function hubError(code: 'ERR_HUB_NOT_FOUND' | 'ERR_HUB_AUTH' | 'ERR_HUB_OFFLINE' | 'ERR_HUB_DOWNLOAD', message: string, extra: object = {}): CodedError {
  return Object.assign(codedError(code, printable(message)), extra);
}

/**
 * The local snapshot directory of `spec` (`hf:ORG/NAME[@REVISION]`), downloading what the cache lacks:
 * config.json, the weights (model.safetensors, or model.safetensors.index.json and its shards), the
 * tokenizer files and a fused-multilabel classifier's files, when the repository has them; for an
 * ensemble (config.json's model_type 'fused-ensemble') the same for each member folder members/NAME.
 */
export async function downloadModel(spec: string, name = 'model'): Promise<string> {
  const id = parseHubId(spec, name);
  if (!id) throw rangeError(name, "a Hugging Face model id starting with 'hf:'", spec);
  const cache = new RepoCache(id.repo);
  if (offline()) return cachedSnapshot(id, cache, 'HF_HUB_OFFLINE is set');
  const session = new Session(id, cache);
  // A snapshot with config.json, the weights and a tokenizer is complete (huggingface_hub's downloads and
  // ours both leave one): no further request once the revision is known to name its commit.
  const complete = () => snapshotLacks(cache, session.commit!, true).length === 0;
  if (isCommit(id.revision) && complete()) return cache.snapshotDir(id.revision);
  try {
    await session.file('config.json', true);
  } catch (err) {
    const e = err as CodedError & { network?: boolean };
    if (!e.network) throw err;
    try {
      const dir = cachedSnapshot(id, cache, `${endpoint()} is unreachable`);
      process.stderr.write(`fused-multilabel: ${printable(e.message)}; using the cached snapshot ${dir}\n`);
      return dir;
    } catch {
      throw err;
    }
  }
  if (complete()) return cache.snapshotDir(session.commit!);
  const members = ensembleMembers(cache, session.commit!);
  if (members) {
    // an ensemble (ensemble_model.ts): each member is a model directory of its own under members/NAME
    for (const m of members) {
      await session.file(`${m}/config.json`, true);
      await session.file(`${m}/model.safetensors`, true);
      for (const f of [...TOKENIZER_FILES, ...CLASSIFIER_FILES]) await session.file(`${m}/${f}`, false);
    }
    for (const f of [...TOKENIZER_FILES, ...CLASSIFIER_FILES]) await session.file(f, false);
    return cache.snapshotDir(session.commit!);
  }
  if (!(await session.file('model.safetensors', false))) {
    const index = await session.file('model.safetensors.index.json', false);
    if (index) {
      for (const shard of readShardIndex(index)) await session.file(shard, true);
    } else if (await session.file('pytorch_model.bin', false, true)) {
      throw hubError(
        'ERR_HUB_NOT_FOUND',
        `hf:${id.repo} has PyTorch weights only (pytorch_model.bin), no model.safetensors; this package reads safetensors. ` +
          `Convert once with Python: python3 -c "from transformers import AutoModel, AutoTokenizer; n='${id.repo}'; ` +
          `AutoModel.from_pretrained(n).save_pretrained('DIR', safe_serialization=True); AutoTokenizer.from_pretrained(n).save_pretrained('DIR')" and use DIR`,
      );
    } else {
      throw hubError('ERR_HUB_NOT_FOUND', `hf:${id.repo}@${id.revision} has no model.safetensors (nor model.safetensors.index.json)`);
    }
  }
  for (const f of [...TOKENIZER_FILES, ...CLASSIFIER_FILES]) await session.file(f, false);
  return cache.snapshotDir(session.commit!);
}

/**
 * The member folders (members/NAME) of a cached config.json that says model_type 'fused-ensemble'
 * (null for any other model); names that are not plain folder names are left out (the loader rejects them).
 */
function ensembleMembers(cache: RepoCache, commit: string): string[] | null {
  const path = cache.cachedFile(commit, 'config.json');
  let config: { model_type?: unknown; ensemble?: { members?: unknown } };
  try {
    config = path ? JSON.parse(readFileSync(path, 'utf8')) : {};
  } catch {
    return null;
  }
  if (config.model_type !== 'fused-ensemble') return null;
  const list = Array.isArray(config.ensemble?.members) ? config.ensemble.members : [];
  return list.map((m: { name?: unknown } | null) => m?.name).filter((n): n is string => typeof n === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(n)).map((n) => `members/${n}`);
}

/** What the cached snapshot `commit` lacks of config.json, the weights (with their shards) and, with `tokenizer`, vocab.txt or tokenizer.json. */
function snapshotLacks(cache: RepoCache, commit: string, tokenizer: boolean): string[] {
  const missing = ['config.json'].filter((f) => !cache.cachedFile(commit, f));
  const members = missing.length === 0 ? ensembleMembers(cache, commit) : null;
  // an ensemble: each member's config.json and weights (its tokenizer is optional: an n-gram member has none)
  if (members) return members.flatMap((m) => [`${m}/config.json`, `${m}/model.safetensors`]).filter((f) => !cache.cachedFile(commit, f));
  const index = cache.cachedFile(commit, 'model.safetensors.index.json');
  if (!cache.cachedFile(commit, 'model.safetensors')) {
    if (index) missing.push(...readShardIndex(index).filter((f) => !cache.cachedFile(commit, f)));
    else missing.push('model.safetensors');
  }
  if (tokenizer && !cache.cachedFile(commit, 'vocab.txt') && !cache.cachedFile(commit, 'tokenizer.json')) missing.push('vocab.txt or tokenizer.json');
  return missing;
}

/** The snapshot the cache holds for `id`, with config.json and the weights; ERR_HUB_OFFLINE naming what is missing. */
function cachedSnapshot(id: HubId, cache: RepoCache, why: string): string {
  const commit = cache.commitOf(id.revision);
  const hint = `download it once online (without HF_HUB_OFFLINE), or with Python: huggingface-cli download ${id.repo}${id.revision === 'main' ? '' : ` --revision ${id.revision}`}`;
  if (!commit) throw hubError('ERR_HUB_OFFLINE', `${why} and hf:${id.repo}@${id.revision} is not in the cache (${cache.root}, no refs/${id.revision}): ${hint}`);
  const missing = snapshotLacks(cache, commit, false);
  if (missing.length > 0) throw hubError('ERR_HUB_OFFLINE', `${why} and the cached snapshot ${cache.snapshotDir(commit)} lacks ${missing.join(', ')}: ${hint}`);
  return cache.snapshotDir(commit);
}

interface FileMeta {
  commit: string;
  etag: string;
  size?: number;
  /** where the bytes are (the storage host for LFS files) */
  url: string;
}

class Session {
  /** the commit the first file resolved to; later files are asked for at this commit */
  commit: string | undefined;
  private readonly token = hubToken();

  constructor(
    private readonly id: HubId,
    private readonly cache: RepoCache,
  ) {
    if (isCommit(id.revision)) this.commit = id.revision;
  }

  private label(file: string): string {
    return `hf:${this.id.repo}@${this.id.revision}: ${file}`;
  }

  private async request(url: string, init: RequestInit & { timeoutMs: number }): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('user-agent', `fused-multilabel/${version}; node/${process.versions.node}`);
    headers.set('accept-encoding', 'identity');
    if (this.token && new URL(url).origin === new URL(endpoint()).origin) headers.set('authorization', `Bearer ${this.token}`);
    try {
      return await fetch(url, { ...init, headers, signal: init.signal ?? AbortSignal.timeout(init.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const what = cause?.code ?? cause?.message ?? (err as Error).message;
      throw hubError('ERR_HUB_DOWNLOAD', `cannot reach ${new URL(url).origin} (${what}); check the network and HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use the cache`, { network: true });
    }
  }

  private statusError(res: Response, file: string): CodedError {
    const code = res.headers.get('x-error-code');
    const page = `${endpoint()}/${this.id.repo}`;
    if (res.status === 401 || res.status === 403) {
      if (code === 'GatedRepo') return hubError('ERR_HUB_AUTH', `hf:${this.id.repo} is gated (HTTP ${res.status}): accept its terms at ${page} and set HF_TOKEN to a token of that account`);
      const tok = this.token ? 'the token in HF_TOKEN has no read access to it' : 'set HF_TOKEN to a token with read access (https://huggingface.co/settings/tokens)';
      return hubError('ERR_HUB_AUTH', `hf:${this.id.repo}: the Hub refused access (HTTP ${res.status}${code ? `, ${code}` : ''}): the repository is private, gated or does not exist; ${tok}`);
    }
    if (res.status === 404) {
      if (code === 'RevisionNotFound') return hubError('ERR_HUB_NOT_FOUND', `hf:${this.id.repo}: revision ${JSON.stringify(this.id.revision)} not found (a branch, tag or commit of ${page})`);
      if (code === 'EntryNotFound') return hubError('ERR_HUB_NOT_FOUND', `${this.label(file)} not found in the repository`);
      return hubError('ERR_HUB_NOT_FOUND', `hf:${this.id.repo}: repository not found at ${page} (check the name; a private repository needs HF_TOKEN)`);
    }
    return hubError('ERR_HUB_DOWNLOAD', `${this.label(file)}: the Hub answered HTTP ${res.status} ${res.statusText}`);
  }

  private fileUrl(file: string): string {
    const rev = encodeURIComponent(this.commit ?? this.id.revision);
    return `${endpoint()}/${this.id.repo}/resolve/${rev}/${file.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** HEAD of a file: its commit, etag, size and download URL; null when the repository lacks the file. */
  private async head(file: string): Promise<FileMeta | null> {
    let url = this.fileUrl(file);
    for (let hop = 0; hop < 10; hop++) {
      const res = await this.request(url, { method: 'HEAD', redirect: 'manual', timeoutMs: seconds(process.env.HF_HUB_ETAG_TIMEOUT, 10) });
      const location = res.headers.get('location');
      const isRedirect = res.status >= 300 && res.status < 400 && location;
      if (isRedirect && !/^[a-z][a-z0-9+.-]*:/i.test(location)) {
        url = new URL(location, url).href; // a relative redirect: the repository was renamed
        continue;
      }
      if (res.status === 404 && res.headers.get('x-error-code') === 'EntryNotFound') return null;
      if (!isRedirect && !res.ok) throw this.statusError(res, file);
      const etag = (res.headers.get('x-linked-etag') ?? res.headers.get('etag') ?? '').replace(/^W\//, '').replace(/"/g, '');
      const commit = res.headers.get('x-repo-commit') ?? this.commit ?? '';
      if (!etag || !/^[\w.-]+$/.test(etag) || !isCommit(commit))
        throw hubError('ERR_HUB_DOWNLOAD', `${this.label(file)}: ${endpoint()} did not send the Hub's headers (ETag, X-Repo-Commit); is HF_ENDPOINT a Hugging Face Hub?`);
      const size = Number(res.headers.get('x-linked-size') ?? res.headers.get('content-length') ?? NaN);
      return { commit, etag, size: Number.isFinite(size) ? size : undefined, url: isRedirect ? new URL(location, url).href : url };
    }
    throw hubError('ERR_HUB_DOWNLOAD', `${this.label(file)}: too many redirects`);
  }

  /** The snapshot path of `file`, downloaded when the cache lacks it; null for an optional file the repository lacks. */
  async file(file: string, required: boolean, probeOnly = false): Promise<string | null> {
    if (this.commit && !probeOnly) {
      const cached = this.cache.cachedFile(this.commit, file);
      if (cached) return cached;
      if (!required && this.cache.knownMissing(this.commit, file)) return null;
    }
    const meta = await this.head(file);
    if (!meta) {
      if (required) throw hubError('ERR_HUB_NOT_FOUND', `${this.label(file)} not found in the repository`);
      if (this.commit) this.cache.markMissing(this.commit, file);
      return null;
    }
    if (probeOnly) return meta.url;
    if (!this.commit) this.commit = meta.commit;
    this.cache.writeRef(this.id.revision, this.commit);
    const cached = this.cache.cachedFile(this.commit, file);
    if (cached) return cached;
    if (!existsSync(this.cache.blob(meta.etag))) await this.download(file, meta);
    return this.cache.link(this.commit, file, meta.etag);
  }

  /** Downloads into blobs/<etag>.incomplete (resuming what is there), verifies, renames to blobs/<etag>. */
  private async download(file: string, meta: FileMeta): Promise<void> {
    const blob = this.cache.blob(meta.etag);
    const part = `${blob}.incomplete`;
    mkdirSync(this.cache.blob(''), { recursive: true });
    // cli-progress is loaded only for a bar: importing the package must not need it (ERR_NO_BINARY's own test runs without node_modules)
    const cliProgress = process.stderr.isTTY && (meta.size ?? 0) > 1 << 20 ? (await import('cli-progress')).default : null;
    const bar = cliProgress ? new cliProgress.SingleBar({ format: `${file} [{bar}] {percentage}% | {mib}/{totalMib} MiB`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : null;
    const mib = (n: number) => (n / 1048576).toFixed(1);
    for (let attempt = 1; ; attempt++) {
      let have = existsSync(part) ? statSync(part).size : 0;
      if (meta.size !== undefined && have > meta.size) have = 0;
      if (meta.size !== undefined && have === meta.size) break;
      const timeoutMs = seconds(process.env.HF_HUB_DOWNLOAD_TIMEOUT, 30);
      const ctl = new AbortController();
      let timer = setTimeout(() => ctl.abort(), timeoutMs);
      const res = await this.request(meta.url, { headers: have > 0 ? { range: `bytes=${have}-` } : {}, redirect: 'follow', signal: ctl.signal, timeoutMs });
      if (!res.ok) {
        clearTimeout(timer);
        if (new URL(meta.url).origin === new URL(endpoint()).origin) throw this.statusError(res, file);
        throw hubError('ERR_HUB_DOWNLOAD', `${this.label(file)}: the storage host ${new URL(meta.url).origin} answered HTTP ${res.status} ${res.statusText}`);
      }
      if (res.status !== 206) have = 0; // the server sent the whole file
      const fd = openSync(part, have > 0 ? 'a' : 'w');
      bar?.start(meta.size!, have, { mib: mib(have), totalMib: mib(meta.size!) });
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          clearTimeout(timer);
          timer = setTimeout(() => ctl.abort(), timeoutMs);
          for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off, chunk.length - off);
          have += chunk.length;
          bar?.update(have, { mib: mib(have) });
        }
        fsyncSync(fd);
        break;
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'ENOSPC' || e.code === 'EDQUOT')
          throw hubError('ERR_HUB_DOWNLOAD', `${this.label(file)}: disk full writing ${part} (${mib(have)} of ${mib(meta.size ?? NaN)} MiB): free space or set HF_HUB_CACHE to another disk, then run again to resume`);
        if (e.code?.startsWith('E') && !/ECONNRESET|ETIMEDOUT|EPIPE/.test(e.code)) throw err;
        if (attempt >= 5)
          throw hubError('ERR_HUB_DOWNLOAD', `${this.label(file)}: the transfer broke off ${attempt} times (${mib(have)} of ${mib(meta.size ?? NaN)} MiB kept in ${part}); run again to resume`);
      } finally {
        clearTimeout(timer);
        closeSync(fd);
        bar?.stop();
      }
    }
    await this.verify(file, meta, part);
    renameSync(part, blob);
  }

  /** Size and, for LFS files (a 64-hex etag is the sha256), the checksum; a bad file is removed. */
  private async verify(file: string, meta: FileMeta, part: string): Promise<void> {
    const size = statSync(part).size;
    let problem = meta.size !== undefined && size !== meta.size ? `${size} bytes instead of ${meta.size}` : '';
    if (!problem && /^[0-9a-f]{64}$/.test(meta.etag)) {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(part)) hash.update(chunk as Buffer);
      const got = hash.digest('hex');
      if (got !== meta.etag) problem = `sha256 ${got} instead of ${meta.etag}`;
    }
    if (!problem) return;
    unlinkSync(part);
    throw hubError('ERR_HUB_DOWNLOAD', `${this.label(file)}: the download is corrupt (${problem}); it was discarded, run again to download it afresh`);
  }
}
