#!/usr/bin/env python3
"""PyTorch CPU eager reference for bench/encoder.bench.mjs: the same BERT training step (embeddings,
post-LN layers, pooler, classifier; dropout 0.1; BCE-with-logits; clip_grad_norm_; AdamW) in plain torch.

Usage: python3 bench/torch_encoder.py LAYERS HIDDEN HEADS FF T B LABELS THREADS STEPS
Prints one JSON line: {"seconds_per_step": median over STEPS, "tokens_per_s": ..., "threads": ...}.
Also: python3 bench/torch_encoder.py matmul N C OC THREADS ITERS → {"gflops": ...} for torch.nn.functional.linear.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Layer(nn.Module):
    def __init__(self, C, NH, FF, p):
        super().__init__()
        self.NH = NH
        self.q, self.k, self.v, self.o = (nn.Linear(C, C) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(C, eps=1e-12), nn.LayerNorm(C, eps=1e-12)
        self.fc1, self.fc2 = nn.Linear(C, FF), nn.Linear(FF, C)
        self.drop = nn.Dropout(p)

    def forward(self, x, bias):
        B, T, C = x.shape
        heads = lambda t: t.view(B, T, self.NH, C // self.NH).transpose(1, 2)
        s = heads(self.q(x)) @ heads(self.k(x)).transpose(-1, -2) / math.sqrt(C // self.NH) + bias
        ctx = (self.drop(torch.softmax(s, -1)) @ heads(self.v(x))).transpose(1, 2).reshape(B, T, C)
        x = self.ln1(x + self.drop(self.o(ctx)))
        return self.ln2(x + self.drop(self.fc2(F.gelu(self.fc1(x)))))


class Bert(nn.Module):
    def __init__(self, L, C, NH, FF, V, P, K, p=0.1):
        super().__init__()
        self.wte, self.wpe, self.wtt = nn.Embedding(V, C, padding_idx=0), nn.Embedding(P, C), nn.Embedding(2, C)
        self.ln = nn.LayerNorm(C, eps=1e-12)
        self.layers = nn.ModuleList(Layer(C, NH, FF, p) for _ in range(L))
        self.pool, self.cls = nn.Linear(C, C), nn.Linear(C, K)
        self.drop = nn.Dropout(p)

    def forward(self, ids, mask):
        T = ids.shape[1]
        x = self.drop(self.ln(self.wte(ids) + self.wpe(torch.arange(T, device=ids.device))[None] + self.wtt(torch.zeros_like(ids))))
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, bias)
        return self.cls(self.drop(torch.tanh(self.pool(x[:, 0]))))


def main():
    if sys.argv[1] == 'matmul':
        N, C, OC, threads, iters = map(int, sys.argv[2:7])
        torch.set_num_threads(threads)
        a, w, b = torch.randn(N, C), torch.randn(OC, C), torch.randn(OC)
        F.linear(a, w, b)
        t0 = time.perf_counter()
        for _ in range(iters):
            F.linear(a, w, b)
        dt = time.perf_counter() - t0
        print(json.dumps({'gflops': 2 * N * C * OC * iters / dt / 1e9}))
        return
    L, C, NH, FF, T, B, K, threads, steps = map(int, sys.argv[1:10])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Bert(L, C, NH, FF, 30522, 512, K)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    ids = torch.randint(1, 30522, (B, T))
    mask = torch.ones(B, T, dtype=torch.long)
    mask[B // 2:, T * 3 // 4:] = 0
    y = (torch.rand(B, K) < 0.2).float()

    def step():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(ids, mask), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    step()
    step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    dt = sorted(times)[len(times) // 2]  # the median step: robust to other load on a shared machine
    print(json.dumps({'seconds_per_step': dt, 'tokens_per_s': B * T / dt, 'threads': torch.get_num_threads()}))


if __name__ == '__main__':  # bench/gpu/torch_gpu.py imports Bert from here
    main()
