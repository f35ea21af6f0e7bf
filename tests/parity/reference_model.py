"""Plain PyTorch reference of the three model families in design/MODEL.md §1-4 (inference only).

Written from the spec, not from the C++ sources, so that a parity test compares two independent
readings of it. Eval mode: no dropout, no gradient; truncated backprop (K) and detaching between
supervision passes do not change forward values, so they do not appear here.

build_model(config, tensors) -> forward(tokens (B, n) int64) -> logits (B, n, V) float32.
"""
import math

import torch


def rms_norm(x, weight, eps):
    # x: (..., d); normalise by the root mean square over the last dim, then learned scale.
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * weight


def linear(x, w):
    # W is stored (out, in), as torch.nn.functional.linear expects: y = x @ W^T, no bias.
    return x @ w.t()


def rope_tables(n, hd, base, dtype):
    """cos, sin of shape (n, hd) for the rotate-half layout: channel j and j + hd/2 share
    the angle p * base^(-2j/hd). Angles are formed in float64 so the table is the exact math
    rounded once, not an accumulation of float32 rounding at large positions."""
    j = torch.arange(hd // 2, dtype=torch.float64)
    inv_freq = base ** (-2.0 * j / hd)                                 # (hd/2,)
    pos = torch.arange(n, dtype=torch.float64)                         # positions start at 0
    ang = pos[:, None] * inv_freq[None, :]                             # (n, hd/2)
    ang = torch.cat([ang, ang], dim=-1)                                # (n, hd)
    return ang.cos().to(dtype), ang.sin().to(dtype)


def apply_rope(x, cos, sin):
    # x: (B, h, n, hd); rotate_half(x) = cat(-x2, x1) where x1, x2 are the two channel halves.
    half = x.shape[-1] // 2
    rot = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rot * sin


def causal_attention(q, k, v):
    # q, k, v: (B, h, n, hd). Explicit softmax(q k^T / sqrt(hd) + causal mask) v.
    n, hd = q.shape[-2], q.shape[-1]
    att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)                    # (B, h, n, n)
    allowed = torch.ones(n, n, dtype=torch.bool).tril()                # position i sees 0..i
    att = att.masked_fill(~allowed, float("-inf"))
    att = torch.softmax(att, dim=-1)
    return att @ v                                                     # (B, h, n, hd)


class Weights:
    """Looks up exported tensors by name, checks their shapes, upcasts to the compute dtype."""

    def __init__(self, tensors, dtype):
        self.tensors, self.dtype = tensors, dtype

    def __call__(self, name, shape):
        if name not in self.tensors:
            raise ValueError(f"missing tensor '{name}'")
        t = self.tensors[name]
        if list(t.shape) != list(shape):
            raise ValueError(f"tensor '{name}' has shape {list(t.shape)}, expected {list(shape)}")
        if not t.is_floating_point():
            raise ValueError(f"tensor '{name}' has non-float dtype {t.dtype}")
        return t.to(self.dtype)


def make_block(W, prefix, d, heads, eps, rope):
    """CausalAttnBlock (MODEL.md §1): pre-norm attention with RoPE, then pre-norm SwiGLU."""
    hd = d // heads
    norm1, norm2 = W(prefix + "norm1.weight", [d]), W(prefix + "norm2.weight", [d])
    qkv, wo = W(prefix + "qkv", [3 * d, d]), W(prefix + "wo", [d, d])
    w13, w2 = W(prefix + "w13", [8 * d, d]), W(prefix + "w2", [d, 4 * d])

    def block(x):
        B, n, _ = x.shape                                              # x: (B, n, d)
        cos, sin = rope(n)                                             # (n, hd) each
        # Fused projection rows are [Wq; Wk; Wv]; within each part head j owns channels
        # j*hd..(j+1)*hd-1, hence the view (B, n, 3, h, hd).
        t = linear(rms_norm(x, norm1, eps), qkv).view(B, n, 3, heads, hd)
        q, k, v = (t[:, :, i].transpose(1, 2) for i in range(3))       # (B, h, n, hd) each
        y = causal_attention(apply_rope(q, cos, sin), apply_rope(k, cos, sin), v)
        y = y.transpose(1, 2).reshape(B, n, d)                         # heads back in order
        h = x + linear(y, wo)
        # w13 rows are [W1; W3]: the first 4d outputs are W1 (gate), the last 4d are W3.
        a, b = linear(rms_norm(h, norm2, eps), w13).split(4 * d, dim=-1)   # (B, n, 4d) each
        return h + linear(torch.nn.functional.silu(a) * b, w2)

    return block


def build_model(config, tensors, dtype=torch.float32):
    """Returns forward(tokens) -> logits for config["model"] in transformer | unitf | hrm."""
    family = config.get("model")
    d, heads, V = int(config["d"]), int(config["heads"]), int(config["vocab"])
    eps = float(config.get("rms_eps", 1e-6))
    base = float(config.get("rope_base", 10000.0))
    if d <= 0 or heads <= 0 or d % heads or (d // heads) % 2:
        raise ValueError(f"d={d}, heads={heads}: need d divisible by heads and an even head dim")
    hd = d // heads
    W = Weights(tensors, dtype)
    rope = lambda n: rope_tables(n, hd, base, dtype)
    blk = lambda prefix: make_block(W, prefix, d, heads, eps, rope)
    wte = W("wte", [V, d])
    norm = lambda name: W(name, [d])

    def embed(tokens):
        if tokens.dim() != 2 or tokens.dtype != torch.int64:
            raise ValueError(f"tokens must be int64 (B, n), got {tokens.dtype} {list(tokens.shape)}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= V):
            raise ValueError(f"token ids outside [0, {V})")
        return wte[tokens]                                             # (B, n, d)

    if family in ("transformer", "unitf"):
        if family == "transformer":
            L = int(config["L"])
            blocks = [blk(f"blocks.{i}.") for i in range(L)]          # distinct weights
        else:
            M = int(config["M"])
            blocks = [blk("block.")] * M                               # one block, applied M times
        norm_f = norm("norm_f.weight")

        def forward(tokens):
            with torch.no_grad():
                x = embed(tokens)
                for b in blocks:
                    x = b(x)
                return linear(rms_norm(x, norm_f, eps), wte).float()   # tied head: (B, n, V)
        return forward

    if family != "hrm":
        raise ValueError(f"unknown model family {family!r}")

    N, T, S = int(config["N"]), int(config["T"]), int(config["S"])
    M = int(config["M"])
    if M != N * T or T <= 0 or S <= 0:
        raise ValueError(f"hrm needs M = N*T > 0 and S > 0, got M={M}, N={N}, T={T}, S={S}")
    block_in, block_L, block_H = blk("block_in."), blk("block_L."), blk("block_H.")
    z_L0, z_H0 = W("z_L0", [d]), W("z_H0", [d])
    P_L, G_L, b_L, alpha_L = W("P_L", [d, 3 * d]), W("G_L", [d, 3 * d]), W("b_L", [d]), W("alpha_L", [])
    P_H, G_H, b_H, alpha_H = W("P_H", [d, 2 * d]), W("G_H", [d, 2 * d]), W("b_H", [d]), W("alpha_H", [])
    W_f, tau = W("W_f", [d, 3 * d]), W("tau", [])
    norm_L, norm_H = norm("norm_L.weight"), norm("norm_H.weight")
    norm_e, norm_o = norm("norm_e.weight"), norm("norm_o.weight")

    def forward(tokens):
        with torch.no_grad():
            e = block_in(embed(tokens))                                # (B, n, d), fixed input
            z_L = z_L0.expand_as(e)                                    # prototypes broadcast
            z_H = z_H0.expand_as(e)
            # Only the last pass's logits are read, and the fusion does not feed back into the
            # states, so it suffices to run S*M steps with states carried across passes.
            for _pass in range(S):
                for i in range(M):
                    c_L = torch.cat([z_L, z_H, e], dim=-1)            # (B, n, 3d)
                    u_L = block_L(z_L + alpha_L * linear(c_L, P_L))
                    g_L = torch.sigmoid(linear(c_L, G_L) + b_L)       # retention gate
                    z_L = g_L * z_L + (1 - g_L) * u_L
                    if (i + 1) % T == 0:                               # slow step, N per pass
                        c_H = torch.cat([z_H, z_L], dim=-1)           # (B, n, 2d), new z_L
                        u_H = block_H(z_H + alpha_H * linear(c_H, P_H))
                        g_H = torch.sigmoid(linear(c_H, G_H) + b_H)
                        z_H = g_H * z_H + (1 - g_H) * u_H
            zl, zh, ee = rms_norm(z_L, norm_L, eps), rms_norm(z_H, norm_H, eps), rms_norm(e, norm_e, eps)
            g_o = torch.sigmoid(linear(torch.cat([zl, zh, ee], dim=-1), W_f) / tau)
            o = g_o * zl + (1 - g_o) * zh + ee
            return linear(rms_norm(o, norm_o, eps), wte).float()       # (B, n, V)
    return forward
