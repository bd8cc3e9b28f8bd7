"""Recorded results of trusted code, for the student self-check kit.

A kit may hold no reference code, nor anything derived from it (known-bug variants), yet its public checks call
them for expected values and diagnoses. At package time graders/record.py runs the public checks on the bundled
samples with those modules wrapped, and stores every call's result under a hash of the call (module, name,
arguments). In the kit, a stand-in module answers the same calls from that table: checks are derandomized and
the kit never shrinks, so a student's run asks for inputs the samples' runs asked for. Any other input raises
NotRecorded: only the course autograder can check it.

The kit's hypothesis checks draw from seeds of their own, so the recorded expected values are no answer key to
the autograder's inputs. The table is one wire frame (JSON and raw tensor bytes); nothing is unpickled.
"""
import builtins
import hashlib
import io
import struct
import types
from functools import cache
from pathlib import Path

import hypothesis
import torch

from graders.problems import NotRecorded
from graders.sandbox import wire

RECORDING = Path(__file__).with_name("recording.grd")  # only a student kit has one
KIT = RECORDING.exists()  # True in a kit, and set while recording one: checks then run as the kit runs them
MAX_BYTES = 1 << 30
RAISED = ("RuntimeError", "ValueError", "IndexError", "KeyError", "TypeError", "ZeroDivisionError")


def key(module, path, args, kwargs):
    """The name of a call: `module.path:` and a SHA-256 of its arguments' types, shapes and bytes."""
    digest = hashlib.sha256()
    _feed(digest, (tuple(args), dict(sorted(kwargs.items()))))
    return f"{module}.{path}:{digest.hexdigest()}"


def _feed(digest, value):
    """Hash `value` unambiguously: each item is a tag, a length and its bytes."""
    def item(tag, data):
        digest.update(tag + struct.pack(">Q", len(data)) + data)

    if type(value) is torch.Tensor:
        t = value.detach().cpu().contiguous()
        item(b"T", f"{t.dtype}{tuple(t.shape)}".encode())
        item(b"B", t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif value is None or type(value) in (bool, int, str):
        item(type(value).__name__.encode(), repr(value).encode())
    elif type(value) is float:
        item(b"f", struct.pack(">d", value))
    elif isinstance(value, type) or hasattr(value, "recorded_name"):  # a trusted class or function, by its name
        item(b"N", (getattr(value, "recorded_name", None) or f"{value.__module__}.{value.__qualname__}").encode())
    elif type(value) in (tuple, list, dict, types.SimpleNamespace):
        items = list(vars(value).items() if type(value) is types.SimpleNamespace else
                     value.items() if type(value) is dict else value)
        item(type(value).__name__.encode(), struct.pack(">Q", len(items)))
        for x in items:
            _feed(digest, x)
    else:
        raise TypeError(f"cannot record a {type(value).__name__}")


def plain(value):
    """A copy of `value` in plain data (tensors cloned, detached, on the CPU); TypeError for anything else."""
    if type(value) is torch.Tensor:
        return value.detach().cpu().clone()
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) in (tuple, list):
        return type(value)(plain(x) for x in value)
    if type(value) is dict and all(type(k) is str for k in value):
        return {k: plain(x) for k, x in value.items()}
    raise TypeError(f"cannot record a {type(value).__name__}")


def save(recording):
    """Frame a recording: {"calls": {key: ("=", value) | ("!", exception type, message)}, "surfaces": {module:
    surface}, "notes": [line]}. A surface lists a module's "functions", "tables" ({name: ["dict" | "pairs",
    [entry names]]}), "classes" ({name: qualified name}) and "constants"."""
    return wire.encode(recording, MAX_BYTES)


def load(frame):
    data = io.BytesIO(frame)

    def read_exact(n):
        chunk = data.read(n)
        if len(chunk) != n:
            raise wire.WireError("the recording is truncated")
        return chunk
    return wire.decode(read_exact, MAX_BYTES)


@cache
def recording():
    return load(RECORDING.read_bytes())


class Replayed:
    """A recorded function of a stand-in: it answers calls from the recording."""

    def __init__(self, module, path):
        self.module, self.path = module, path
        self.recorded_name = f"{module}.{path}"  # what a recorded call that takes this function hashes

    def __call__(self, *args, **kwargs):
        try:
            found = recording()["calls"].get(key(self.module, self.path, args, kwargs))
        except TypeError:
            found = None
        if found is None:
            raise NotRecorded("The self-check kit has no recorded expected result for this input, so only the course "
                              f"autograder can check it (no recording of {self.module}.{self.path} on it).")
        if found[0] == "!":
            raise getattr(builtins, found[1] if found[1] in RAISED else "RuntimeError")(found[2])
        return plain(found[1])


class Named:
    """A trusted class in a stand-in: its name, which the recorded calls that take the class hashed, and no code."""

    def __init__(self, recorded_name):
        self.recorded_name = recorded_name

    def __call__(self, *args, **kwargs):
        raise NotRecorded(f"The self-check kit holds no code of {self.recorded_name}, so only the course autograder "
                          "can check this.")


def stand_in(module):
    """The attributes of the stand-in for `module`: its constants, classes by name, and recorded functions and
    tables."""
    surface = recording()["surfaces"][module]
    attributes = {**surface["constants"], **{name: Replayed(module, name) for name in surface["functions"]},
                  **{name: Named(qualified) for name, qualified in surface["classes"].items()}}
    for name, (kind, entries) in surface["tables"].items():
        table = [(entry, Replayed(module, f"{name}[{i}]")) for i, entry in enumerate(entries)]
        attributes[name] = dict(table) if kind == "dict" else table
    return attributes


def notes():
    """What the kit tells a student under every self-check: which checks it runs, and which it cannot."""
    return recording()["notes"] if RECORDING.exists() else []


def reseed(test, name):
    """Give a hypothesis check the kit's own seed (derived from its name) in place of the derandomized one."""
    if hasattr(test, "hypothesis"):
        hypothesis.seed(int.from_bytes(hashlib.sha256(f"kit:{name}".encode()).digest()[:8], "big"))(test)
