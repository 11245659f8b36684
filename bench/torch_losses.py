#!/usr/bin/env python3
"""PyTorch CPU eager reference for bench/losses.bench.mjs (run as a subprocess when torch imports).

Reads a JSON job from stdin: {"sizes": [[N, K, iters], ...], "threads": [1, 2], "variants": [...]} and
prints one JSON line per measurement: {"variant", "N", "K", "threads", "sec"} (the median time of one
forward+backward, float32). Focal is torchvision's composition, DB the composition of the spec's formulas.
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
    job = json.load(sys.stdin)
    g = torch.Generator().manual_seed(0)
    for N, K, iters in job["sizes"]:
        for variant in job["variants"]:
            x, y, extra = make(variant, N, K, g)
            for th in job["threads"]:
                torch.set_num_threads(th)
                step(variant, x, y, extra)  # warm-up
                times = []
                for _ in range(iters):
                    t0 = time.perf_counter()
                    step(variant, x, y, extra)
                    times.append(time.perf_counter() - t0)
                print(json.dumps({"variant": variant, "N": N, "K": K, "threads": th, "sec": statistics.median(times)}), flush=True)
            del x, y, extra


if __name__ == "__main__":
    main()
