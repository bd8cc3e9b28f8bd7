"""Plain-data frames between the grader and the sandbox child; nothing is ever unpickled.

A frame is MAGIC, a 4-byte header length, a JSON header, then the raw bytes of each tensor the header lists.
The value tree in the header uses JSON types plus tagged nodes: {"$tensor": i}, {"$tuple": [...]},
{"$dict": [[key, value], ...]}, {"$namespace": [[attribute, value], ...]} (a config object such as
GPTConfig travels as a SimpleNamespace), {"$object": "TypeName"} for anything that is not plain data.
The decoder checks every field and every size before it allocates. This module imports only the standard
library and torch, because the child loads it by path.
"""
import collections
import json
import struct
import types

import torch

MAGIC = b"GRD1"
MAX_HEADER = 32 << 20  # a load request carries up to 2 MiB of source twice, JSON-escaped
MAX_DEPTH = 32
MAX_NDIM = 8
DTYPES = {name: getattr(torch, name) for name in (
    "float16", "bfloat16", "float32", "float64", "complex64", "complex128",
    "int8", "int16", "int32", "int64", "uint8", "bool")}
DTYPE_NAMES = {dtype: name for name, dtype in DTYPES.items()}


class WireError(Exception):
    """A frame that breaks the format: the peer is broken or hostile."""


def encode(value, max_bytes):
    """Frame `value`; tensors must be exactly torch.Tensor (subclasses can lie, so they become objects)."""
    tensors, blobs = [], []

    def node(v, depth):
        if depth > MAX_DEPTH:
            raise WireError("value nested too deeply")
        if v is None or isinstance(v, (bool, str)) or type(v) in (int, float):
            return v
        if type(v) is torch.Tensor:
            t = v.detach().cpu().contiguous()
            if t.dtype not in DTYPE_NAMES:
                return {"$object": f"Tensor[{t.dtype}]"}
            tensors.append({"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape)})
            blobs.append(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
            return {"$tensor": len(tensors) - 1}
        if type(v) is tuple:
            return {"$tuple": [node(x, depth + 1) for x in v]}
        if type(v) is list:
            return [node(x, depth + 1) for x in v]
        if type(v) in (dict, collections.OrderedDict) and all(type(k) is str for k in v):  # state_dict()
            return {"$dict": [[k, node(x, depth + 1)] for k, x in v.items()]}
        if type(v) is types.SimpleNamespace:
            return {"$namespace": [[k, node(x, depth + 1)] for k, x in vars(v).items() if type(k) is str]}
        return {"$object": type(v).__name__}

    body = node(value, 0)
    header = json.dumps({"body": body, "tensors": tensors}).encode()
    size = len(header) + sum(map(len, blobs))
    if len(header) > MAX_HEADER:
        raise WireError(f"its structure takes {len(header)} bytes, more than the limit of {MAX_HEADER} bytes")
    if size > max_bytes:
        raise WireError(f"value of {size} bytes exceeds the limit of {max_bytes} bytes")
    return b"".join([MAGIC, struct.pack(">I", len(header)), header, *blobs])


def decode(read_exact, max_bytes):
    """Read one frame through `read_exact(n) -> bytes` and rebuild the value, refusing anything malformed."""
    if read_exact(4) != MAGIC:
        raise WireError("bad magic")
    (n,) = struct.unpack(">I", read_exact(4))
    if n > MAX_HEADER:
        raise WireError(f"header of {n} bytes")
    try:
        header = json.loads(read_exact(n))
    except (UnicodeDecodeError, ValueError) as e:
        raise WireError(f"header is not JSON: {e}") from None
    if type(header) is not dict or set(header) != {"body", "tensors"} or type(header["tensors"]) is not list:
        raise WireError("header fields")
    specs, total = [], n
    for spec in header["tensors"]:
        dtype, shape, nbytes = _tensor_spec(spec)
        total += nbytes
        if total > max_bytes:
            raise WireError(f"tensors exceed the limit of {max_bytes} bytes")
        specs.append((dtype, shape, nbytes))
    tensors = [_tensor(read_exact(nbytes), dtype, shape) for dtype, shape, nbytes in specs]
    return _value(header["body"], tensors, 0)


def _tensor_spec(spec):
    if type(spec) is not dict or set(spec) != {"dtype", "shape"}:
        raise WireError("tensor spec fields")
    dtype, shape = DTYPES.get(spec["dtype"]), spec["shape"]
    if dtype is None:
        raise WireError(f"dtype {spec['dtype']!r} not allowed")
    if type(shape) is not list or len(shape) > MAX_NDIM or any(type(s) is not int or s < 0 for s in shape):
        raise WireError(f"bad shape {shape!r}")
    numel = 1
    for s in shape:
        numel *= s  # Python ints cannot overflow; the byte cap bounds the product.
    return dtype, shape, numel * dtype.itemsize


def _tensor(data, dtype, shape):
    if not data:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).view(dtype).reshape(shape)


def _value(v, tensors, depth):
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if v is None or type(v) in (bool, int, float, str):
        return v
    if type(v) is list:
        return [_value(x, tensors, depth + 1) for x in v]
    if type(v) is dict and len(v) == 1:
        (tag, x), = v.items()
        if tag == "$tensor" and type(x) is int and 0 <= x < len(tensors):
            return tensors[x]
        if tag == "$tuple" and type(x) is list:
            return tuple(_value(y, tensors, depth + 1) for y in x)
        if tag in ("$dict", "$namespace") and type(x) is list and all(
                type(p) is list and len(p) == 2 and type(p[0]) is str for p in x):
            d = {k: _value(y, tensors, depth + 1) for k, y in x}
            if tag == "$dict":
                return d
            if all(k.isidentifier() and not k.startswith("__") for k in d):
                return types.SimpleNamespace(**d)
        if tag == "$object" and type(x) is str:
            return Foreign(x[:200])
    raise WireError(f"unexpected node {str(v)[:80]}")


class Foreign:
    """Stands for a value the child could not send as plain data; only its type name crosses."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object>"

    def __eq__(self, other):
        return type(other) is Foreign and other.type_name == self.type_name
