// A local stand-in for the Hugging Face Hub on 127.0.0.1: /{repo}/resolve/{revision}/{file} answers as the
// Hub does (X-Repo-Commit; ETag = git blob sha1 for small files; LFS files (*.safetensors, *.bin) as a 302
// to a second server, the storage host, with X-Linked-Etag = sha256 and X-Linked-Size; X-Error-Code on
// 401/404; /old-org/… as a relative 307, like a renamed repository). The storage host (127.0.0.2 on Linux)
// honours Range.
// `faults.truncate` / `faults.corrupt` plant that many broken transfers; `log` records every request.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

export const COMMIT = 'a'.repeat(39) + '1';
export const sha256 = (b) => createHash('sha256').update(b).digest('hex');
export const gitSha1 = (b) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
export const isLfs = (name) => /\.(safetensors|bin)$/.test(name);
/** The etag the Hub gives a file: sha256 for LFS files, the git blob id otherwise. */
export const etagOf = (name, body) => (isLfs(name) ? sha256(body) : gitSha1(body));

export const listen = (s, host = '127.0.0.1') => new Promise((r) => s.listen(0, host, () => r(`http://${host}:${s.address().port}`)));
// The storage host on another address than the Hub, as on huggingface.co: clients (huggingface_hub too)
// follow a redirect within the Hub's host but read an LFS file's metadata from the redirect to another
// host. Linux routes all of 127.0.0.0/8 to the loopback interface.
const STORAGE_HOST = process.platform === 'linux' ? '127.0.0.2' : '127.0.0.1';

/**
 * repos: { 'org/name': { file: Buffer } } (repositories added later are served too); privateRepos: names that
 * need `Authorization: Bearer secret` (401 RepoNotFound without it); gatedRepos: always 403 GatedRepo.
 */
export async function startHub(repos, { privateRepos = [], gatedRepos = [] } = {}) {
  const log = [];
  const faults = { truncate: 0, corrupt: 0 };
  const cdn = createServer((req, res) => {
    log.push({ host: 'cdn', method: req.method, url: req.url, range: req.headers.range, auth: req.headers.authorization });
    const sha = req.url.split('/').pop();
    const body = Object.values(repos).flatMap((files) => Object.values(files)).find((b) => sha256(b) === sha);
    if (!body) return res.writeHead(404).end();
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    let part = body.subarray(start);
    if (faults.corrupt > 0) {
      faults.corrupt--;
      part = Buffer.from(part);
      part[part.length >> 1] ^= 0xff;
    }
    res.writeHead(m ? 206 : 200, { 'content-length': part.length, ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
    if (req.method === 'HEAD') return res.end();
    if (faults.truncate > 0) {
      faults.truncate--;
      return void res.write(part.subarray(0, part.length >> 1), () => res.destroy());
    }
    res.end(part);
  });
  const cdnUrl = await listen(cdn, STORAGE_HOST);
  const hub = createServer((req, res) => {
    log.push({ host: 'hub', method: req.method, url: req.url, auth: req.headers.authorization });
    if (req.url.startsWith('/old-org/')) return res.writeHead(307, { location: req.url.replace('/old-org/', '/org/') }).end();
    const m = /^\/([\w.-]+\/[\w.-]+)\/resolve\/([^/]+)\/(.+)$/.exec(decodeURIComponent(req.url));
    const files = m && repos[m[1]];
    if (!files) return res.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end();
    if (privateRepos.includes(m[1]) && req.headers.authorization !== 'Bearer secret') return res.writeHead(401, { 'x-error-code': 'RepoNotFound' }).end();
    if (gatedRepos.includes(m[1])) return res.writeHead(403, { 'x-error-code': 'GatedRepo' }).end();
    if (m[2] !== 'main' && m[2] !== COMMIT) return res.writeHead(404, { 'x-error-code': 'RevisionNotFound' }).end();
    const body = files[m[3]];
    if (!body) return res.writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-repo-commit': COMMIT }).end();
    if (isLfs(m[3])) {
      const sha = sha256(body);
      return res.writeHead(302, { 'x-repo-commit': COMMIT, location: `${cdnUrl}/repos/${sha}`, 'x-linked-etag': `"${sha}"`, 'x-linked-size': body.length, etag: `"${gitSha1(body)}"` }).end();
    }
    res.writeHead(200, { 'x-repo-commit': COMMIT, etag: `"${gitSha1(body)}"`, 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  const url = await listen(hub);
  return { url, log, faults, close: () => Promise.all([new Promise((r) => hub.close(r)), new Promise((r) => cdn.close(r))]) };
}
