#!/usr/bin/env python3
"""
PyTorch reference for `npm run bench -- train`: the same BERT-style encoder (Hugging Face layout,
post-LN, GELU with erf, pooler + tanh, dropout 0.1), the same loss, AdamW, gradient clipping and linear
warm-up/decay schedule, trained on exactly the token ids the Node trainer uses (bench/train.bench.mjs
writes them to a JSON file), on the same number of CPU threads. Prints one JSON line with the
per-epoch examples/s and timings, and the validation/test macro/micro F1 per epoch.

Written for this benchmark (plain torch, no transformers dependency); not a copy of any library's code.

  python3 bench/torch_train.py --data /tmp/batches.json --threads 2 --epochs 3

The --csv mode (word-level tokens, 60/20/20 random split) exists for quick experiments without Node.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Layer(nn.Module):
    def __init__(self, h, heads, ff, p):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(h, h)
        self.k = nn.Linear(h, h)
        self.v = nn.Linear(h, h)
        self.o = nn.Linear(h, h)
        self.ln1 = nn.LayerNorm(h, eps=1e-12)
        self.f1 = nn.Linear(h, ff)
        self.f2 = nn.Linear(ff, h)
        self.ln2 = nn.LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(p)

    def forward(self, x, bias):
        B, T, C = x.shape
        hs = C // self.heads
        q = self.q(x).view(B, T, self.heads, hs).transpose(1, 2)
        k = self.k(x).view(B, T, self.heads, hs).transpose(1, 2)
        v = self.v(x).view(B, T, self.heads, hs).transpose(1, 2)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hs) + bias
        att = self.drop(att.softmax(-1))
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = self.ln1(x + self.drop(self.o(y)))
        return self.ln2(x + self.drop(self.f2(F.gelu(self.f1(x)))))


class Bert(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h = cfg["hiddenSize"]
        p = 0.1
        self.word = nn.Embedding(cfg["vocabSize"], h)
        self.pos = nn.Embedding(cfg["maxPositions"], h)
        self.typ = nn.Embedding(2, h)
        self.ln = nn.LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(p)
        self.layers = nn.ModuleList([Layer(h, cfg["numHeads"], cfg["intermediateSize"], p) for _ in range(cfg["numLayers"])])
        self.pool = nn.Linear(h, h)
        self.cls = nn.Linear(h, cfg["numLabels"])
        self.pooling = cfg.get("pooling", "pooler")
        for m in self.modules():  # BERT init
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, ids, mask):
        B, T = ids.shape
        x = self.word(ids) + self.pos(torch.arange(T).unsqueeze(0)) + self.typ(torch.zeros_like(ids))
        x = self.drop(self.ln(x))
        bias = ((1.0 - mask[:, None, None, :].float()) * -1e9)
        for layer in self.layers:
            x = layer(x, bias)
        if self.pooling == "mean":
            m = mask.unsqueeze(-1).float()
            return self.cls(self.drop((x * m).sum(1) / m.sum(1).clamp(min=1)))
        if self.pooling == "cls":
            return self.cls(self.drop(x[:, 0]))
        return self.cls(self.drop(torch.tanh(self.pool(x[:, 0]))))


def masked_bce(logits, y):
    known = (y >= 0).float()
    loss = F.binary_cross_entropy_with_logits(logits, y.clamp(min=0).float(), reduction="none") * known
    return loss.sum() / known.sum().clamp(min=1)


def db_loss(logits, y, counts, ntr, lam=2.0, kappa=0.05, a_m=0.1, beta=10.0, mu=0.405, alpha=0.5, gamma=2.0):
    """Distribution-balanced loss as in ../shared/LOSS_SPEC.md §3 (masked mean)."""
    known = (y >= 0).float()
    yp = (y == 1).float()
    n = counts.clamp(1, ntr - 1)
    nu = -kappa * torch.log(ntr / n - 1)
    R = (yp / n).sum(1, keepdim=True)
    r = torch.where(R > 0, torch.sigmoid(beta * ((1 / n) / R.clamp(min=1e-30) - mu)) + a_m, torch.full_like(R, 1 + a_m))
    z = torch.where(yp > 0, logits + nu, lam * (logits + nu))
    pos = alpha * r * torch.sigmoid(-z) ** gamma * F.softplus(-z)
    neg = (1 - alpha) * (r / lam) * torch.sigmoid(z) ** gamma * F.softplus(z)
    loss = torch.where(yp > 0, pos, neg) * known
    return loss.sum() / known.sum().clamp(min=1)


def f1_scores(y, p, thr):
    known = y >= 0
    pred = (p >= thr) & known
    pos = (y == 1)
    tp = (pred & pos).sum(0).double()
    fp = (pred & ~pos & known).sum(0).double()
    fn = (~pred & pos).sum(0).double()
    per = torch.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), torch.zeros_like(tp))
    micro = (2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum())).item() if (tp.sum() + fp.sum() + fn.sum()) > 0 else 0.0
    return micro, per.mean().item()


def length_bucketed(order, lengths, bs, g, pool_batches=16):
    """The Node trainer's batching (lib/training.ts lengthBucketedOrder): the shuffled order cut into pools
    of 16 batches, each pool sorted by length (stable), the full batches shuffled, a partial one kept last."""
    pool = bs * pool_batches
    srt = []
    for p in range(0, len(order), pool):
        srt += sorted(order[p:p + pool], key=lambda i: lengths[i])
    full = len(srt) // bs
    out = []
    for b in torch.randperm(full, generator=g).tolist():
        out += srt[b * bs:(b + 1) * bs]
    return out + srt[full * bs:]


def batches(split, bs, order=None):
    n = len(split["ids"])
    idx = order if order is not None else list(range(n))
    for b in range(0, n, bs):
        sel = idx[b:b + bs]
        T = max(len(split["ids"][i]) for i in sel)
        ids = torch.zeros(len(sel), T, dtype=torch.long)
        mask = torch.zeros(len(sel), T, dtype=torch.long)
        for j, i in enumerate(sel):
            row = split["ids"][i]
            ids[j, :len(row)] = torch.tensor(row)
            mask[j, :len(row)] = 1
        y = torch.tensor([split["targets"][i] for i in sel], dtype=torch.long)
        yield ids, mask, y


def predict(model, split, bs=64):
    model.eval()
    out = []
    with torch.no_grad():
        for ids, mask, _ in batches(split, bs):
            out.append(torch.sigmoid(model(ids, mask)))
    model.train()
    return torch.cat(out)


def from_csv(path, max_len, seed):
    import csv
    import random
    import re
    rows = list(csv.DictReader(open(path, newline="")))
    labels = sorted({l for r in rows for l in r["labels"].split(",") if l})
    lid = {l: i for i, l in enumerate(labels)}
    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3}
    toks = [re.findall(r"\w+|[^\w\s]", r["text"].lower()) for r in rows]
    for t in toks:
        for w in t:
            vocab.setdefault(w, len(vocab))
    data = []
    for r, t in zip(rows, toks):
        ids = [2] + [vocab[w] for w in t][: max_len - 2] + [3]
        y = [0] * len(labels)
        for l in r["labels"].split(","):
            if l:
                y[lid[l]] = 1
        data.append((ids, y))
    random.Random(seed).shuffle(data)
    n = len(data)
    cut = lambda a, b: {"ids": [d[0] for d in data[a:b]], "targets": [d[1] for d in data[a:b]]}
    return {"vocabSize": len(vocab), "labels": labels, "train": cut(0, int(0.6 * n)), "val": cut(int(0.6 * n), int(0.8 * n)), "test": cut(int(0.8 * n), n)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", help="JSON written by bench/train.bench.mjs")
    ap.add_argument("--csv", help="quick mode: a CSV with text,labels (word-level tokens)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--loss", default="bce", choices=["bce", "db"])
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ff", type=int, default=256)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--bucket", action="store_true", help="batch texts of similar length together, as the Node trainer does")
    ap.add_argument("--pooling", default="pooler", choices=["pooler", "cls", "mean"])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.data:
        d = json.load(open(a.data))
        cfg = d["config"]
    else:
        d = from_csv(a.csv, 128, a.seed)
        cfg = {"vocabSize": d["vocabSize"], "hiddenSize": a.hidden, "numLayers": a.layers, "numHeads": a.heads,
               "intermediateSize": a.ff, "maxPositions": 512, "numLabels": len(d["labels"]), "pooling": a.pooling}
    model = Bert(cfg)
    train = d["train"]
    N = len(train["ids"])
    steps_per_epoch = math.ceil(N / a.batch_size)
    total = steps_per_epoch * a.epochs
    warm = int(0.1 * total)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim == 1 else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=a.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / max(1, total - warm)))
    yt = torch.tensor(train["targets"])
    counts = (yt == 1).sum(0).double().float()
    g = torch.Generator().manual_seed(a.seed)
    out = {"threads": a.threads, "config": cfg, "epochs": []}
    t_start = time.perf_counter()
    for epoch in range(1, a.epochs + 1):
        order = torch.randperm(N, generator=g).tolist()
        if a.bucket:
            order = length_bucketed(order, [len(r) for r in train["ids"]], a.batch_size, g)
        t0 = time.perf_counter()
        lsum = 0.0
        for ids, mask, y in batches(train, a.batch_size, order):
            logits = model(ids, mask)
            loss = masked_bce(logits, y) if a.loss == "bce" else db_loss(logits, y, counts, float(N))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            lsum += loss.item() * len(y)
        dt = time.perf_counter() - t0
        rec = {"epoch": epoch, "seconds": dt, "examplesPerSec": N / dt, "trainLoss": lsum / N, "elapsed": time.perf_counter() - t_start}
        for name in ("val", "test"):
            if name in d:
                p = predict(model, d[name])
                y = torch.tensor(d[name]["targets"])
                mi, ma = f1_scores(y, p, 0.5)
                rec[name] = {"microF1": mi, "macroF1": ma}
        out["epochs"].append(rec)
        print(json.dumps(rec), file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
