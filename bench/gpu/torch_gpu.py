#!/usr/bin/env python3
"""PyTorch CUDA references for bench/gpu/encoder_gpu.mjs (run by it when torch sees a GPU).

1. torch.matmul at the encoder's GEMM shapes, fp32 with TF32 off (the same arithmetic as our fp32
   kernels) and with TF32 on (labelled: tensor cores, 10-bit mantissa inputs), in TFLOP/s = 2·M·N·K / s.
   Timed with CUDA events: warm-up, then the median of `reps` runs.
2. A BERT-base training step in PyTorch eager: the plain-torch model of bench/torch_encoder.py (Hugging
   Face math: post-LN, erf GELU, scaled masked softmax, dropout 0.1, tanh pooler), fp32, BCEWithLogits,
   clip_grad_norm_, torch.optim.AdamW; the median of `steps` steps after 2 warm-up steps, in sequences/s.
   With TF32 off, and again with TF32 on (labelled).

Usage: python3 bench/gpu/torch_gpu.py '<json>' where json = {"gemms": [{"gemm", "M", "N", "K", "transA",
"transB"}], "batch", "seqLen", "layers", "hidden", "heads", "ffn", "vocab", "labels", "steps", "reps"}.
Prints one JSON line.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from torch_encoder import Bert  # noqa: E402


def set_tf32(on):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def time_ms(fn, reps, warmup=3):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    ts = []
    for _ in range(reps):
        a.record()
        fn()
        b.record()
        b.synchronize()
        ts.append(a.elapsed_time(b))
    return median(ts)


def gemm(g, reps):
    """C (M,N) = op(A) · op(B) with op as the row says; A and B stored as our kernels read them."""
    M, N, K, ta, tb = g['M'], g['N'], g['K'], g['transA'], g['transB']
    dev = 'cuda'
    A = torch.randn(K, M, device=dev) if ta else torch.randn(M, K, device=dev)
    B = torch.randn(N, K, device=dev) if tb else torch.randn(K, N, device=dev)
    opA, opB = (A.t() if ta else A), (B.t() if tb else B)
    out = torch.empty(M, N, device=dev)
    res = {}
    for label, tf32 in (('fp32', False), ('tf32', True)):
        set_tf32(tf32)
        ms = time_ms(lambda: torch.matmul(opA, opB, out=out), reps)
        res['ms_' + label] = ms
        res['tflops_' + label] = 2.0 * M * N * K / (ms * 1e-3) / 1e12
    set_tf32(False)
    return res


def train(cfg, tf32):
    set_tf32(tf32)
    torch.manual_seed(0)
    dev = 'cuda'
    B, T, K = cfg['batch'], cfg['seqLen'], cfg['labels']
    model = Bert(cfg['layers'], cfg['hidden'], cfg['heads'], cfg['ffn'], cfg['vocab'], 512, K).to(dev)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    ids = torch.randint(1, cfg['vocab'], (B, T), device=dev)
    mask = torch.ones(B, T, dtype=torch.long, device=dev)  # as the JS side: no padding
    y = (torch.rand(B, K, device=dev) < 0.2).float()
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(ids, mask), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    ms = time_ms(step, cfg['steps'], warmup=2)
    del model, opt
    torch.cuda.empty_cache()
    set_tf32(False)
    return {'seconds_per_step': ms / 1e3, 'sequences_per_s': B / (ms / 1e3)}


def main():
    if not torch.cuda.is_available():
        raise SystemExit('torch.cuda.is_available() is False')
    cfg = json.loads(sys.argv[1])
    out = {
        'torch': torch.__version__,
        'device': torch.cuda.get_device_name(0),
        'gemms': [{**g, **gemm(g, cfg.get('reps', 20))} for g in cfg['gemms']],
        'train': {'fp32': train(cfg, False), 'tf32': train(cfg, True)},
    }
    print(json.dumps(out))


if __name__ == '__main__':
    main()
