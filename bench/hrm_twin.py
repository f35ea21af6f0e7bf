"""PyTorch-Python twin of hrm's three model families (MODEL.md), written from
the equations, not from the C++ code. Used as the baseline of the training-step
benchmark (same libtorch kernels, Python dispatch) and as an independent
reference implementation.

    python3 bench/hrm_twin.py --model hrm --d 128 --seq 128 --batch 8 --steps 20
prints one JSON line: {"model":..., "ms_per_step":..., "tokens_per_s":...,
"peak_mem_mb":...}. On a GPU (bench/gpu_bench.sh):
    --device cuda --bf16 [--compile]
runs the step under bf16 autocast (fp32 master weights, as hrm's trainer) and
with --compile through torch.compile. Attention is PyTorch's
scaled_dot_product_attention where it exists (2.0+), else written out.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(seq, head_dim, base=10000.0):
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2).float() / head_dim))
    ang = torch.outer(torch.arange(seq).float(), inv)  # (n, hd/2)
    return ang.cos(), ang.sin()


def apply_rope(x, cos, sin):
    # x: (B, h, n, hd); rotate pairs (first half, second half)
    n = x.shape[-2]
    c, s = cos[:n], sin[:n]
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([x1 * c - x2 * s, x1 * s + x2 * c], dim=-1)


class CausalAttnBlock(nn.Module):
    def __init__(self, d, heads, seq):
        super().__init__()
        self.d, self.h = d, heads
        self.norm1, self.norm2 = RMSNorm(d), RMSNorm(d)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.w1 = nn.Linear(d, 4 * d, bias=False)
        self.w3 = nn.Linear(d, 4 * d, bias=False)
        self.w2 = nn.Linear(4 * d, d, bias=False)
        cos, sin = rope_tables(seq, d // heads)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    def forward(self, x):
        B, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(d, dim=-1)
        q, k, v = (t.view(B, n, self.h, d // self.h).transpose(1, 2) for t in (q, k, v))
        q, k = apply_rope(q, self.cos, self.sin), apply_rope(k, self.cos, self.sin)
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # PyTorch 1.13
            att = (q @ k.transpose(-2, -1)) / math.sqrt(d // self.h)
            mask = torch.ones(n, n, dtype=torch.bool, device=x.device).triu(1)
            att = att.masked_fill(mask, float("-inf")).softmax(-1)
            y = att @ v
        y = y.transpose(1, 2).reshape(B, n, d)
        h = x + self.wo(y)
        z = self.norm2(h)
        return h + self.w2(F.silu(self.w1(z)) * self.w3(z))


def init_block(block, std, applications):
    for lin in (block.qkv, block.w1, block.w3):
        nn.init.normal_(lin.weight, 0.0, std)
    for lin in (block.wo, block.w2):
        nn.init.normal_(lin.weight, 0.0, std / math.sqrt(2 * applications))


class LM(nn.Module):
    def __init__(self, vocab, d):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.norm_out = RMSNorm(d)
        nn.init.normal_(self.emb.weight, 0.0, 0.02)

    def head(self, x):
        return self.norm_out(x) @ self.emb.weight.t()


class Transformer(LM):
    def __init__(self, vocab, d, heads, seq, L):
        super().__init__(vocab, d)
        self.blocks = nn.ModuleList(CausalAttnBlock(d, heads, seq) for _ in range(L))
        for b in self.blocks:
            init_block(b, 0.02, L)

    def forward(self, tokens, targets):
        x = self.emb(tokens)
        for b in self.blocks:
            x = b(x)
        logits = self.head(x)
        ce = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return ce, ce


class UniTF(LM):
    def __init__(self, vocab, d, heads, seq, M, K):
        super().__init__(vocab, d)
        self.M, self.K = M, K
        self.block = CausalAttnBlock(d, heads, seq)
        init_block(self.block, 0.02, M)

    def forward(self, tokens, targets):
        x = self.emb(tokens)
        with torch.no_grad():
            for _ in range(self.M - self.K):
                x = self.block(x)
        for _ in range(self.K):
            x = self.block(x)
        logits = self.head(x)
        ce = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return ce, ce


class HRM(LM):
    def __init__(self, vocab, d, heads, seq, N, T, K, S, lam=0.01):
        super().__init__(vocab, d)
        self.N, self.T, self.M, self.K, self.S, self.lam = N, T, N * T, K, S, lam
        self.block_in = CausalAttnBlock(d, heads, seq)
        self.block_l = CausalAttnBlock(d, heads, seq)
        self.block_h = CausalAttnBlock(d, heads, seq)
        init_block(self.block_in, 0.02, 1)
        init_block(self.block_l, 0.02, self.M)
        init_block(self.block_h, 0.02, N)
        self.p_l = nn.Linear(3 * d, d, bias=False)
        self.g_l = nn.Linear(3 * d, d)
        self.p_h = nn.Linear(2 * d, d, bias=False)
        self.g_h = nn.Linear(2 * d, d)
        self.w_f = nn.Linear(3 * d, d, bias=False)
        for lin in (self.p_l, self.g_l, self.p_h, self.g_h, self.w_f):
            nn.init.normal_(lin.weight, 0.0, 0.02)
        nn.init.zeros_(self.g_l.bias)
        nn.init.zeros_(self.g_h.bias)
        self.alpha_l = nn.Parameter(torch.tensor(0.1))
        self.alpha_h = nn.Parameter(torch.tensor(0.1))
        self.tau = nn.Parameter(torch.tensor(1.0))
        self.norm_l, self.norm_h, self.norm_e = RMSNorm(d), RMSNorm(d), RMSNorm(d)
        self.register_buffer("z_l0", nn.init.trunc_normal_(torch.empty(d), 0, 1, -2, 2))
        self.register_buffer("z_h0", nn.init.trunc_normal_(torch.empty(d), 0, 1, -2, 2))

    def step(self, zl, zh, e, i):
        c = torch.cat([zl, zh, e], -1)
        u = self.block_l(zl + self.alpha_l * self.p_l(c))
        g = torch.sigmoid(self.g_l(c))
        zl = g * zl + (1 - g) * u
        if (i + 1) % self.T == 0:
            c = torch.cat([zh, zl], -1)
            u = self.block_h(zh + self.alpha_h * self.p_h(c))
            g = torch.sigmoid(self.g_h(c))
            zh = g * zh + (1 - g) * u
        return zl, zh

    def forward(self, tokens, targets):
        e = self.block_in(self.emb(tokens))
        zl = self.z_l0.expand_as(e)
        zh = self.z_h0.expand_as(e)
        losses = []
        for _ in range(self.S):
            with torch.no_grad():
                for i in range(self.M - self.K):
                    zl, zh = self.step(zl, zh, e, i)
            for i in range(self.M - self.K, self.M):
                zl, zh = self.step(zl, zh, e, i)
            a, b, ee = self.norm_l(zl), self.norm_h(zh), self.norm_e(e)
            go = torch.sigmoid(self.w_f(torch.cat([a, b, ee], -1)) / self.tau)
            o = go * a + (1 - go) * b + ee
            logits = self.head(o)
            ce = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
            gbar = go.mean().clamp(1e-6, 1 - 1e-6)
            ent = -(gbar * gbar.log() + (1 - gbar) * (1 - gbar).log())
            losses.append(ce - self.lam * ent)
            zl, zh = zl.detach(), zh.detach()
        return torch.stack(losses).mean(), ce


def build(args):
    V, d, h, n = args.vocab, args.d, max(1, args.d // 64), args.seq
    if args.model == "transformer":
        return Transformer(V, d, h, n, args.L)
    if args.model == "unitf":
        return UniTF(V, d, h, n, args.M, args.K)
    return HRM(V, d, h, n, args.N, args.T, args.K, args.S)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="hrm", choices=["transformer", "unitf", "hrm"])
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--vocab", type=int, default=256)
    ap.add_argument("--L", type=int, default=4)
    ap.add_argument("--M", type=int, default=12)
    ap.add_argument("--N", type=int, default=4)
    ap.add_argument("--T", type=int, default=3)
    ap.add_argument("--K", type=int, default=2)
    ap.add_argument("--S", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast over fp32 weights")
    ap.add_argument("--compile", action="store_true", help="the model through torch.compile")
    args = ap.parse_args()
    if args.compile and not hasattr(torch, "compile"):
        ap.error(f"--compile needs PyTorch 2.0 or later (this is {torch.__version__})")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    torch.manual_seed(0)
    model = build(args).to(device)
    forward = torch.compile(model) if args.compile else model
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    g = torch.Generator().manual_seed(1)
    x = torch.randint(0, args.vocab, (args.batch, args.seq), generator=g).to(device)
    y = torch.randint(0, args.vocab, (args.batch, args.seq), generator=g).to(device)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
            loss, _ = forward(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    for _ in range(args.warmup):  # with --compile, the first one compiles
        step()
    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    dt = (time.perf_counter() - t0) / args.steps
    row = {"model": args.model, "ms_per_step": dt * 1e3, "tokens_per_s": args.batch * args.seq / dt}
    if cuda:  # weights, AdamW moments and one step's activations
        row["peak_mem_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    print(json.dumps(row))


if __name__ == "__main__":
    main()
