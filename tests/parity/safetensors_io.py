"""Minimal reader/writer for the safetensors format (standard library + numpy + torch).

Layout: u64 little-endian header length N | N bytes UTF-8 JSON header | raw tensor bytes.
Header: {"name": {"dtype": ..., "shape": [...], "data_offsets": [begin, end]}, ...,
         optional "__metadata__": {str: str}}; offsets are relative to the byte buffer
that follows the header. All tensor data is little-endian and row-major.
"""
import json
import struct

import numpy as np
import torch

# dtype tag -> (numpy little-endian dtype used to read the raw bytes, torch dtype, itemsize).
# BF16 has no numpy type: read it as int16 and reinterpret the bits as torch.bfloat16.
_DTYPES = {
    "F32": ("<f4", torch.float32, 4),
    "F16": ("<f2", torch.float16, 2),
    "BF16": ("<i2", torch.bfloat16, 2),
    "I64": ("<i8", torch.int64, 8),
    "I32": ("<i4", torch.int32, 4),
}
_TAG_OF = {torch_dt: tag for tag, (_, torch_dt, _) in _DTYPES.items()}


def _fail(path, what):
    raise ValueError(f"{path}: {what}")


def load(path):
    """Returns (dict name -> torch.Tensor, metadata dict). Raises ValueError on a malformed file."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        _fail(path, f"file is {len(raw)} bytes, too short for the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        _fail(path, f"header length {n} exceeds the {len(raw) - 8} bytes after the length field")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        _fail(path, f"header is not valid UTF-8 JSON ({e})")
    if not isinstance(header, dict):
        _fail(path, "header JSON is not an object")
    buf = raw[8 + n:]

    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        _fail(path, "__metadata__ must be an object of string -> string")

    tensors, spans = {}, []
    for name, info in header.items():
        where = f"tensor '{name}'"
        if not isinstance(info, dict):
            _fail(path, f"{where}: entry is not an object")
        tag, shape, offs = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if tag not in _DTYPES:
            _fail(path, f"{where}: unknown dtype {tag!r}")
        # bool is a subclass of int in Python; reject it explicitly.
        if not isinstance(shape, list) or not all(
                isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
            _fail(path, f"{where}: bad shape {shape!r}")
        if not (isinstance(offs, list) and len(offs) == 2 and all(
                isinstance(o, int) and not isinstance(o, bool) for o in offs)):
            _fail(path, f"{where}: bad data_offsets {offs!r}")
        begin, end = offs
        if not 0 <= begin <= end <= len(buf):
            _fail(path, f"{where}: data_offsets {offs} outside the {len(buf)}-byte buffer")
        np_dt, torch_dt, itemsize = _DTYPES[tag]
        numel = 1
        for s in shape:
            numel *= s
        if end - begin != numel * itemsize:
            _fail(path, f"{where}: {end - begin} bytes but shape {shape} x {tag} needs "
                        f"{numel * itemsize}")
        spans.append((begin, end, name))
        # astype copies out of the read-only file buffer into a native-byte-order array.
        arr = np.frombuffer(buf, dtype=np_dt, count=numel, offset=begin).astype(np_dt[1:])
        t = torch.from_numpy(arr).reshape(shape)
        tensors[name] = t.view(torch.bfloat16) if tag == "BF16" else t

    # The format forbids overlapping tensors; a writer bug would otherwise go unnoticed.
    spans.sort()
    for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            _fail(path, f"tensor '{n1}' overlaps tensor '{n0}'")
    return tensors, dict(metadata)


def save(path, tensors, metadata=None):
    """Writes dict name -> torch.Tensor (F32/F16/BF16/I64/I32) as safetensors."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        if t.dtype not in _TAG_OF:
            raise ValueError(f"{path}: tensor '{name}' has unsupported dtype {t.dtype}")
        tag = _TAG_OF[t.dtype]
        np_dt = _DTYPES[tag][0]
        bits = t.view(torch.int16) if t.dtype == torch.bfloat16 else t
        data = bits.numpy().astype(np_dt, copy=False).tobytes()
        header[name] = {"dtype": tag, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * (-len(hjson) % 8)  # pad to 8 bytes so the buffer is aligned (as upstream does)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for c in chunks:
            f.write(c)
