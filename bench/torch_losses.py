#!/usr/bin/env python3
"""PyTorch CPU eager reference for bench/losses.bench.mjs (run as a subprocess when torch imports).

A worker: reads one JSON job per line from stdin, {"variant", "N", "K", "threads", "iters"}, times that many
forward+backward steps (float32, after one warm-up step) and answers one JSON line {"sec": median}. The
benchmark alternates rounds of these with its own, so both are timed in the same minutes. Data per (variant,
N, K) is made once; focal is torchvision's composition, DB the composition of the spec's formulas.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def make(variant, N, K, g):
    x = (torch.rand(N, K, generator=g) * 16 - 8).requires_grad_(True)
    y = (torch.rand(N, K, generator=g) < 0.3).float()
    extra = {}
    if variant == "posWeight":
        extra["pos_weight"] = torch.rand(K, generator=g) * 4 + 0.5
    if variant == "masked":
        t = torch.where(torch.rand(N, K, generator=g) < 0.2, torch.full((N, K), -1, dtype=torch.int8), y.to(torch.int8))
        extra["t8"] = t
    if variant == "db":
        extra["counts"] = torch.randint(0, 500, (K,), generator=g).double()
    return x, y, extra


def step(variant, x, y, extra):
    if variant == "bce":
        loss = F.binary_cross_entropy_with_logits(x, y)
    elif variant == "posWeight":
        loss = F.binary_cross_entropy_with_logits(x, y, pos_weight=extra["pos_weight"])
    elif variant == "masked":
        t = extra["t8"]
        m = t != -1
        el = F.binary_cross_entropy_with_logits(x, t.clamp(min=0).float(), reduction="none")
        loss = (el * m).sum() / m.sum()
    elif variant == "focal":
        p = torch.sigmoid(x)
        ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        p_t = p * y + (1 - p) * (1 - y)
        el = ce * ((1 - p_t) ** 2)
        el = (0.25 * y + 0.75 * (1 - y)) * el
        loss = el.mean()
    elif variant == "db":
        Ntr = 40000.0
        nk = extra["counts"].clamp(1, Ntr - 1).float()
        nu = -0.05 * torch.log(Ntr / nk - 1)
        R = (y / nk).sum(1, keepdim=True)
        r = torch.sigmoid(10 * ((1 / nk) / torch.where(R > 0, R, torch.ones_like(R)) - 0.405)) + 0.1
        r = torch.where(R > 0, r, torch.full_like(r, 1.1))
        zp = x + nu
        zn = 2 * zp
        pos = 0.5 * r * torch.sigmoid(-zp) ** 2 * F.softplus(-zp)
        neg = 0.5 * (r / 2) * torch.sigmoid(zn) ** 2 * F.softplus(zn)
        loss = (y * pos + (1 - y) * neg).mean()
    else:
        raise ValueError(variant)
    loss.backward()
    x.grad = None


def main():
    print(json.dumps({"version": torch.__version__}), flush=True)
    g = torch.Generator().manual_seed(0)
    data = {}
    for line in sys.stdin:
        job = json.loads(line)
        key = (job["variant"], job["N"], job["K"])
        if key not in data:
            data.clear()  # one size at a time: the largest inputs take hundreds of MB
            data[key] = make(job["variant"], job["N"], job["K"], g)
        x, y, extra = data[key]
        torch.set_num_threads(job["threads"])
        step(job["variant"], x, y, extra)  # warm-up
        times = []
        for _ in range(job["iters"]):
            t0 = time.perf_counter()
            step(job["variant"], x, y, extra)
            times.append(time.perf_counter() - t0)
        print(json.dumps({"sec": statistics.median(times)}), flush=True)


if __name__ == "__main__":
    main()
