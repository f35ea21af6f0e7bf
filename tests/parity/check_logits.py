#!/usr/bin/python3
"""Compare logits computed by the C++ side with the independent PyTorch reference.

usage: check_logits.py EXPORT_DIR EXPECTED.safetensors [--tol 1e-4] [--float64]

EXPORT_DIR holds config.json and model.safetensors (the hrm-export format); EXPECTED holds
"tokens" (I64, (B, n)) and "logits" (F32, (B, n, V)). Exit 0 if max|diff| <= tol, 1 if not,
2 on bad input.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from reference_model import build_model  # noqa: E402


class BadInput(Exception):
    pass


def _load_config(path):
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError) as e:
        raise BadInput(f"{path}: cannot read config ({e})")
    if not isinstance(config, dict) or config.get("format") != "hrm-export":
        raise BadInput(f"{path}: not an hrm-export config (format != 'hrm-export')")
    # Versions 1 and 2 differ only in the tokenizer files, which are not read here.
    if config.get("format_version") not in (1, 2):
        raise BadInput(f"{path}: unsupported format_version {config.get('format_version')!r}")
    return config


def _load_st(path):
    try:
        return safetensors_io.load(path)[0]
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e})")
    except ValueError as e:
        raise BadInput(str(e))


def run(export_dir, expected_path, tol, dtype=torch.float32):
    """Returns the exit code; prints the max abs difference and the verdict."""
    try:
        cfg_path = os.path.join(export_dir, "config.json")
        model_path = os.path.join(export_dir, "model.safetensors")
        config = _load_config(cfg_path)
        tensors = _load_st(model_path)
        try:
            model = build_model(config, tensors, dtype)
        except (KeyError, ValueError, TypeError) as e:
            raise BadInput(f"{export_dir}: cannot build the reference model ({e!s})")
        expected = _load_st(expected_path)
        tokens, logits = expected.get("tokens"), expected.get("logits")
        if tokens is None or tokens.dtype != torch.int64 or tokens.dim() != 2:
            raise BadInput(f"{expected_path}: needs 'tokens' as I64 of shape (B, n)")
        if logits is None or logits.dtype != torch.float32:
            raise BadInput(f"{expected_path}: needs 'logits' as F32")
        want = list(tokens.shape) + [int(config["vocab"])]
        if list(logits.shape) != want:
            raise BadInput(f"{expected_path}: 'logits' has shape {list(logits.shape)}, "
                           f"expected {want} from tokens and vocab")
        try:
            ours = model(tokens)
        except ValueError as e:
            raise BadInput(f"{expected_path}: {e}")
    except BadInput as e:
        print(f"bad input: {e}", file=sys.stderr)
        return 2

    diff = (ours.double() - logits.double()).abs()
    # NaN anywhere (on either side) must fail; max() would otherwise hide it behind a compare.
    if torch.isnan(diff).any():
        print(f"max abs diff: nan ({int(torch.isnan(diff).sum())} NaN entries)")
        print(f"FAIL: logits differ (NaN present), tol {tol:g}")
        return 1
    md = diff.max().item() if diff.numel() else 0.0
    where = tuple(int(i) for i in divmod_all(int(diff.argmax()), diff.shape)) if diff.numel() else ()
    print(f"max abs diff: {md:.3e} at (b, t, v) = {where}; "
          f"max |logit| {logits.abs().max().item() if logits.numel() else 0.0:.3e}")
    if md <= tol:
        print(f"PASS: max abs diff {md:.3e} <= tol {tol:g}")
        return 0
    print(f"FAIL: max abs diff {md:.3e} > tol {tol:g}")
    return 1


def divmod_all(flat, shape):
    # Unravel a flat index into a multi-index (numpy.unravel_index without numpy).
    idx = []
    for s in reversed(shape):
        flat, r = divmod(flat, s)
        idx.append(r)
    return reversed(idx)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("export_dir")
    p.add_argument("expected")
    p.add_argument("--tol", type=float, default=1e-4)
    p.add_argument("--float64", action="store_true",
                   help="compute the reference in float64 instead of float32")
    a = p.parse_args(argv)
    return run(a.export_dir, a.expected, a.tol, torch.float64 if a.float64 else torch.float32)


if __name__ == "__main__":
    sys.exit(main())
