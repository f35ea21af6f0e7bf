#!/usr/bin/python3
"""Quick self-check of the parity reference: safetensors round trips and rejects, model
shapes/finiteness, causality, a few structural identities, and the check_logits exit codes.
Run: /usr/bin/python3 tests/parity/selftest.py"""
import io
import json
import os
import struct
import sys
import tempfile
from contextlib import redirect_stderr, redirect_stdout

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_logits  # noqa: E402
import safetensors_io  # noqa: E402
from reference_model import build_model, rope_tables, apply_rope  # noqa: E402

torch.set_num_threads(1)  # shared 2-core machine
D, H, V, SEQ, B = 32, 2, 50, 16, 2


def config(model, **kw):
    c = {"format": "hrm-export", "format_version": 2, "model": model, "d": D, "heads": H,
         "vocab": V, "seq": SEQ, "L": 0, "M": 0, "N": 0, "T": 0, "K": 0, "S": 0,
         "ent_weight": 0.0, "supervision_reduce": "mean", "init_std": 0.02,
         "init_width_ref": 0, "rms_eps": 1e-6, "rope_base": 10000.0, "dtype": "float32"}
    c.update(kw)
    return c


def block_tensors(g, prefix):
    # Larger-than-init scales so every path visibly moves the logits.
    r = lambda *s: torch.randn(*s, generator=g) / s[-1] ** 0.5
    return {prefix + "norm1.weight": 1 + 0.1 * torch.randn(D, generator=g),
            prefix + "norm2.weight": 1 + 0.1 * torch.randn(D, generator=g),
            prefix + "qkv": r(3 * D, D), prefix + "wo": r(D, D),
            prefix + "w13": r(8 * D, D), prefix + "w2": r(D, 4 * D)}


def random_tensors(cfg, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = {"wte": torch.randn(V, D, generator=g)}
    nrm = lambda: 1 + 0.1 * torch.randn(D, generator=g)
    if cfg["model"] == "transformer":
        for i in range(cfg["L"]):
            t.update(block_tensors(g, f"blocks.{i}."))
        t["norm_f.weight"] = nrm()
    elif cfg["model"] == "unitf":
        t.update(block_tensors(g, "block."))
        t["norm_f.weight"] = nrm()
    else:
        for p in ("block_in.", "block_L.", "block_H."):
            t.update(block_tensors(g, p))
        r = lambda *s: torch.randn(*s, generator=g) / s[-1] ** 0.5
        t.update({"z_L0": torch.randn(D, generator=g).clamp(-2, 2),
                  "z_H0": torch.randn(D, generator=g).clamp(-2, 2),
                  "P_L": r(D, 3 * D), "G_L": r(D, 3 * D), "b_L": 0.1 * torch.randn(D, generator=g),
                  "alpha_L": torch.tensor(0.3), "P_H": r(D, 2 * D), "G_H": r(D, 2 * D),
                  "b_H": 0.1 * torch.randn(D, generator=g), "alpha_H": torch.tensor(0.3),
                  "W_f": r(D, 3 * D), "tau": torch.tensor(0.8)})
        for n in ("norm_L", "norm_H", "norm_e", "norm_o"):
            t[n + ".weight"] = nrm()
    return t


FAMILIES = {
    "transformer": config("transformer", L=2),
    "unitf": config("unitf", M=3, K=1),
    "hrm": config("hrm", N=2, T=2, M=4, K=2, S=2),
}
CHECKS = []


def check(name, ok, detail=""):
    CHECKS.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f"  [{detail}]" if detail else ""))


def test_safetensors(tmp):
    g = torch.Generator().manual_seed(1)
    src = {"a": torch.randn(3, 4, generator=g), "b": torch.randn(5, generator=g).half(),
           "c": torch.randn(2, 3, generator=g).bfloat16(), "d": torch.arange(6).reshape(2, 3),
           "e": torch.arange(4, dtype=torch.int32), "s": torch.tensor(1.5), "z": torch.zeros(0, 3)}
    p = os.path.join(tmp, "rt.safetensors")
    safetensors_io.save(p, src, {"k": "v"})
    got, meta = safetensors_io.load(p)
    same = all(got[k].dtype == v.dtype and got[k].shape == v.shape and torch.equal(got[k], v)
               for k, v in src.items()) and set(got) == set(src)
    check("safetensors round trip, all dtypes, bit-exact (incl. BF16, scalar, empty)",
          same and meta == {"k": "v"})

    raw = open(p, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])

    def rejects(label, blob, needle):
        q = os.path.join(tmp, "bad.safetensors")
        open(q, "wb").write(blob)
        try:
            safetensors_io.load(q)
            check(f"rejects {label}", False, "no error")
        except ValueError as e:
            check(f"rejects {label}", q in str(e) and needle in str(e), str(e)[len(q) + 2:])

    def with_header(h):
        j = json.dumps(h).encode()
        return struct.pack("<Q", len(j)) + j + raw[8 + n:]

    rejects("header length past EOF", struct.pack("<Q", len(raw)) + raw[8:], "header length")
    rejects("non-JSON header", struct.pack("<Q", 4) + b"{{{{" + raw[8 + n:], "JSON")
    rejects("unknown dtype", with_header({**header, "a": {**header["a"], "dtype": "F64"}}), "'a'")
    rejects("offsets past buffer",
            with_header({**header, "a": {**header["a"], "data_offsets": [0, 10 ** 6]}}), "'a'")
    rejects("size/shape mismatch",
            with_header({**header, "a": {**header["a"], "shape": [3, 5]}}), "'a'")


def test_models(tmp):
    g = torch.Generator().manual_seed(2)
    tokens = torch.randint(0, V, (B, SEQ), generator=g)
    results = {}
    for fam, cfg in FAMILIES.items():
        tens = random_tensors(cfg)
        for tag, conv in (("F32", lambda x: x), ("BF16", lambda x: x.bfloat16())):
            p = os.path.join(tmp, f"{fam}_{tag}.safetensors")
            safetensors_io.save(p, {k: conv(v) for k, v in tens.items()})
            loaded, _ = safetensors_io.load(p)
            exact = all(torch.equal(loaded[k], conv(v)) for k, v in tens.items())
            f = build_model(cfg, loaded)
            y = f(tokens)
            check(f"{fam} {tag}: round trip exact, logits {tuple(y.shape)} float32 finite",
                  exact and y.shape == (B, SEQ, V) and y.dtype == torch.float32
                  and bool(torch.isfinite(y).all()), f"max|logit| {y.abs().max():.2f}")
            results[fam, tag] = y
            if tag != "F32":
                continue
            # Causality 1: changing tokens after t leaves logits at 0..t unchanged (and the
            # later ones do change, so the check is not vacuous).
            t = SEQ // 2
            alt = tokens.clone()
            alt[:, t + 1:] = (alt[:, t + 1:] + 1 + torch.randint(0, V - 1, alt[:, t + 1:].shape,
                                                               generator=g)) % V
            y2 = f(alt)
            before = (y2[:, :t + 1] - y[:, :t + 1]).abs().max().item()
            after = (y2[:, t + 1:] - y[:, t + 1:]).abs().max().item()
            check(f"{fam}: causal (suffix change)", before <= 1e-5 and after > 1e-3,
                  f"prefix diff {before:.1e}, suffix diff {after:.1e}")
            # Causality 2: running only the prefix gives the same logits.
            y3 = f(tokens[:, :t + 1])
            pre = (y3 - y[:, :t + 1]).abs().max().item()
            check(f"{fam}: causal (prefix-only run)", pre <= 1e-5, f"diff {pre:.1e}")
            # float64 run agrees with float32 (no precision trap in the reference itself).
            y64 = build_model(cfg, loaded, torch.float64)(tokens)
            d64 = (y64 - y).abs().max().item()
            check(f"{fam}: float32 vs float64 reference", d64 <= 1e-4, f"diff {d64:.1e}")
        dbf = (results[fam, "BF16"] - results[fam, "F32"]).abs().max().item()
        check(f"{fam}: BF16 weights give close but not identical logits", 0 < dbf < 1.0,
              f"diff {dbf:.2e}")

    # Structural identities that follow from the spec.
    tt = random_tensors(FAMILIES["transformer"], seed=3)
    shared = {k.replace("blocks.0.", "block."): v for k, v in tt.items() if "blocks.1." not in k}
    ut = build_model(config("unitf", M=2), shared)(tokens)
    tf = {**shared, **{k.replace("block.", f"blocks.{i}."): v
                       for k, v in shared.items() if k.startswith("block.") for i in (0, 1)}}
    tr = build_model(config("transformer", L=2), tf)(tokens)
    check("unitf M=2 == transformer L=2 with both layers set to the shared block",
          torch.allclose(ut, tr, atol=0, rtol=0))
    # States carry across passes and only the last pass is read out, so S=2 passes of M=4
    # steps equal one pass of 8 steps (T=2 divides M, so the slow steps fall on the same
    # global steps either way); a single 4-step pass must differ.
    ht = random_tensors(FAMILIES["hrm"], seed=4)
    a = build_model(config("hrm", N=2, T=2, M=4, S=2), ht)(tokens)
    b = build_model(config("hrm", N=4, T=2, M=8, S=1), ht)(tokens)
    c = build_model(config("hrm", N=2, T=2, M=4, S=1), ht)(tokens)
    check("hrm S=2,M=4 == S=1,M=8 (states carry across passes); != S=1,M=4",
          torch.allclose(a, b, atol=1e-6) and (a - c).abs().max().item() > 1e-3)

    # RoPE: relative-position property, <rope(q,p), rope(k,p')> depends only on p - p'.
    hd = D // H
    cos, sin = rope_tables(40, hd, 10000.0, torch.float64)
    q, k = torch.randn(hd, dtype=torch.float64), torch.randn(hd, dtype=torch.float64)
    rq = apply_rope(q.expand(40, hd), cos, sin)
    rk = apply_rope(k.expand(40, hd), cos, sin)
    dots = [(rq[p] @ rk[p - 3]).item() for p in range(3, 40)]
    check("rope: q.k depends only on relative position; position 0 is identity",
          max(dots) - min(dots) < 1e-9 and torch.allclose(rq[0], q))
    return tokens


def test_cli(tmp, tokens):
    cfg = FAMILIES["hrm"]
    tens = random_tensors(cfg)
    ex = os.path.join(tmp, "export")
    os.makedirs(ex, exist_ok=True)
    json.dump(cfg, open(os.path.join(ex, "config.json"), "w"))
    safetensors_io.save(os.path.join(ex, "model.safetensors"), tens)
    logits = build_model(cfg, tens)(tokens)
    exp = os.path.join(tmp, "expected.safetensors")

    def code(payload, *extra):
        safetensors_io.save(exp, payload)
        out = io.StringIO()
        with redirect_stdout(out), redirect_stderr(out):
            rc = check_logits.main([ex, exp, *extra])
        return rc, out.getvalue().strip().splitlines()[-1]

    rc, line = code({"tokens": tokens, "logits": logits})
    check("check_logits: identical logits -> 0", rc == 0, line)
    bumped = logits.clone()
    bumped[1, 3, 7] += 1e-3
    rc, line = code({"tokens": tokens, "logits": bumped})
    check("check_logits: 1e-3 off at one entry -> 1", rc == 1, line)
    rc, _ = code({"tokens": tokens, "logits": bumped}, "--tol", "2e-3")
    check("check_logits: same with --tol 2e-3 -> 0", rc == 0)
    nan = logits.clone()
    nan[0, 0, 0] = float("nan")
    rc, line = code({"tokens": tokens, "logits": nan})
    check("check_logits: NaN -> 1", rc == 1, line)
    rc, line = code({"tokens": tokens, "logits": logits[:, :, :-1].contiguous()})
    check("check_logits: wrong logits shape -> 2", rc == 2, line)
    rc, line = code({"tokens": tokens})
    check("check_logits: missing logits -> 2", rc == 2, line)
    os.remove(os.path.join(ex, "model.safetensors"))
    rc, line = code({"tokens": tokens, "logits": logits})
    check("check_logits: missing model.safetensors -> 2", rc == 2 and "model.safetensors" in line,
          line)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        test_safetensors(tmp)
        tokens = test_models(tmp)
        test_cli(tmp, tokens)
    bad = CHECKS.count(False)
    print(f"{len(CHECKS) - bad}/{len(CHECKS)} checks passed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
