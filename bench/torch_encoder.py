#!/usr/bin/env python3
"""PyTorch CPU eager reference for bench/encoder.bench.mjs: the same BERT training step (embeddings,
post-LN layers, pooler, classifier; dropout 0.1; BCE-with-logits; clip_grad_norm_; AdamW) in plain torch.

Usage: python3 bench/torch_encoder.py LAYERS HIDDEN HEADS FF T B LABELS THREADS STEPS
Prints one JSON line: {"seconds_per_step": median over STEPS, "best_seconds_per_step", "tokens_per_s": ...,
"threads": ..., "max_rss_mb": the process's peak resident memory, "blas": the BLAS library F.linear ran on}.
Also: python3 bench/torch_encoder.py matmul N C OC THREADS ITERS → {"gflops": ...} for torch.nn.functional.linear.
And: python3 bench/torch_encoder.py onnx MODEL_DIR OUT.onnx POOLING → exports the encoder saved in MODEL_DIR
(this package's Encoder.save(): config.json + model.safetensors, BERT) to ONNX with torch.onnx.export, for
bench/inference.bench.mjs; POOLING is pooler | cls | mean. Inputs input_ids, attention_mask (int64, B×T).
"""
import json
import math
import resource
import struct
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
    def __init__(self, L, C, NH, FF, V, P, K, p=0.1, pooling='pooler', eps=1e-12, TV=2):
        super().__init__()
        self.wte, self.wpe, self.wtt = nn.Embedding(V, C, padding_idx=0), nn.Embedding(P, C), nn.Embedding(TV, C)
        self.ln = nn.LayerNorm(C, eps=eps)
        self.layers = nn.ModuleList(Layer(C, NH, FF, p) for _ in range(L))
        for layer in self.layers:
            layer.ln1.eps = layer.ln2.eps = eps
        self.pool, self.cls = nn.Linear(C, C), nn.Linear(C, K)
        self.drop = nn.Dropout(p)
        self.pooling = pooling

    def forward(self, ids, mask):
        T = ids.shape[1]
        x = self.drop(self.ln(self.wte(ids) + self.wpe(torch.arange(T, device=ids.device))[None] + self.wtt(torch.zeros_like(ids))))
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, bias)
        if self.pooling == 'mean':  # over real tokens
            m = mask[:, :, None].float()
            h = (x * m).sum(1) / m.sum(1).clamp(min=1.0)
        else:
            h = x[:, 0]
            if self.pooling == 'pooler':
                h = torch.tanh(self.pool(h))
        return self.cls(self.drop(h))


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        assert t['dtype'] == 'F32', name
        a, b = t['data_offsets']
        out[name] = torch.frombuffer(bytearray(data[8 + n + a:8 + n + b]), dtype=torch.float32).reshape(t['shape'])
    return out


# Hugging Face BERT names (this package's checkpoints) → this module's parameters.
def hf_name(name):
    per_layer = {'attention.self.query': 'q', 'attention.self.key': 'k', 'attention.self.value': 'v',
                 'attention.output.dense': 'o', 'attention.output.LayerNorm': 'ln1', 'intermediate.dense': 'fc1',
                 'output.dense': 'fc2', 'output.LayerNorm': 'ln2'}
    fixed = {'bert.embeddings.word_embeddings': 'wte', 'bert.embeddings.position_embeddings': 'wpe',
             'bert.embeddings.token_type_embeddings': 'wtt', 'bert.embeddings.LayerNorm': 'ln',
             'bert.pooler.dense': 'pool', 'classifier': 'cls'}
    stem, leaf = name.rsplit('.', 1)
    if stem in fixed:
        return f'{fixed[stem]}.{leaf}'
    parts = stem.split('.')  # bert.encoder.layer.L.<rest>
    return f'layers.{parts[3]}.{per_layer[".".join(parts[4:])]}.{leaf}'


def export_onnx(model_dir, out, pooling):
    cfg = json.load(open(f'{model_dir}/config.json'))
    tensors = read_safetensors(f'{model_dir}/model.safetensors')
    K = tensors['classifier.weight'].shape[0]
    model = Bert(cfg['num_hidden_layers'], cfg['hidden_size'], cfg['num_attention_heads'], cfg['intermediate_size'],
                 cfg['vocab_size'], cfg['max_position_embeddings'], K, p=0.0, pooling=pooling,
                 eps=cfg.get('layer_norm_eps', 1e-12), TV=cfg.get('type_vocab_size', 2))
    model.load_state_dict({hf_name(n): t for n, t in tensors.items()}, strict=True)
    model.eval()
    ids = torch.ones(2, 8, dtype=torch.long)
    mask = torch.ones(2, 8, dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask), out, input_names=['input_ids', 'attention_mask'], output_names=['logits'],
                          dynamic_axes={'input_ids': {0: 'B', 1: 'T'}, 'attention_mask': {0: 'B', 1: 'T'}},
                          opset_version=14, do_constant_folding=True)
    print(json.dumps({'onnx': out, 'torch': torch.__version__}))


def blas_library():
    """The BLAS library this process mapped (torch's F.linear calls it: Debian's torch is built with
    BLAS_INFO=generic and takes whatever libblas.so.3 the alternatives system points to)."""
    with open('/proc/self/maps') as f:
        libs = {line.split()[-1] for line in f if 'blas' in line.split()[-1]}
    return ', '.join(sorted(libs)) or 'none found'


def max_rss_mb():
    """Peak resident memory of this process's own address space (VmHWM): getrusage's ru_maxrss would carry
    the peak of the Node process that spawned it across exec."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main():
    if sys.argv[1] == 'onnx':
        export_onnx(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    if sys.argv[1] == 'matmul':
        N, C, OC, threads, iters = map(int, sys.argv[2:7])
        torch.set_num_threads(threads)
        a, w, b = torch.randn(N, C), torch.randn(OC, C), torch.randn(OC)
        F.linear(a, w, b)
        t0 = time.perf_counter()
        for _ in range(iters):
            F.linear(a, w, b)
        dt = time.perf_counter() - t0
        print(json.dumps({'gflops': 2 * N * C * OC * iters / dt / 1e9, 'blas': blas_library()}))
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
    print(json.dumps({'seconds_per_step': dt, 'best_seconds_per_step': min(times), 'tokens_per_s': B * T / dt,
                      'threads': torch.get_num_threads(), 'max_rss_mb': max_rss_mb(), 'blas': blas_library()}))


if __name__ == '__main__':  # bench/gpu/torch_gpu.py imports Bert from here
    main()
