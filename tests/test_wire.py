"""The wire format: values round-trip; anything malformed or oversized is refused before allocation."""
import io
import json
import struct

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graders.sandbox import wire

LIMIT = 1 << 20


def roundtrip(value, limit=LIMIT):
    return wire.decode(io.BytesIO(wire.encode(value, limit)).read, limit)


def frame(header, blob=b""):
    raw = json.dumps(header).encode()
    return io.BytesIO(wire.MAGIC + struct.pack(">I", len(raw)) + raw + blob).read


@given(shape=st.lists(st.integers(0, 4), max_size=4), dtype=st.sampled_from(sorted(wire.DTYPES)))
@settings(max_examples=60, deadline=None)
def test_tensors_round_trip_exactly(shape, dtype):
    t = torch.randn(shape).to(wire.DTYPES[dtype])
    back = roundtrip(t)
    assert type(back) is torch.Tensor and back.dtype == t.dtype and back.shape == t.shape
    assert torch.equal(back, t)


def test_plain_values_round_trip():
    value = {"a": [1, 2.5, None, True, "x"], "b": (torch.ones(2), (3,)), "nan": float("inf")}
    back = roundtrip(value)
    assert back["a"] == value["a"] and back["nan"] == float("inf")
    assert isinstance(back["b"], tuple) and torch.equal(back["b"][0], torch.ones(2)) and back["b"][1] == (3,)


def test_views_and_non_contiguous_tensors_send_their_values():
    t = torch.arange(12.0).reshape(3, 4).t()[1:]
    assert torch.equal(roundtrip(t), t)


def test_subclasses_and_objects_cross_only_as_type_names():
    class Liar(torch.Tensor):
        pass

    back = roundtrip([torch.ones(2).as_subclass(Liar), object()])
    assert back == [wire.Foreign("Liar"), wire.Foreign("object")]


@pytest.mark.parametrize("read,message", [
    (io.BytesIO(b"EVIL" + b"\0" * 8).read, "bad magic"),
    (io.BytesIO(wire.MAGIC + struct.pack(">I", wire.MAX_HEADER + 1)).read, "header of"),
    (frame({"body": 1}), "header fields"),
    (frame({"body": {"$tensor": 0}, "tensors": [{"dtype": "object", "shape": [1]}]}), "not allowed"),
    (frame({"body": {"$tensor": 0}, "tensors": [{"dtype": "float32", "shape": [-1]}]}), "bad shape"),
    (frame({"body": {"$tensor": 0}, "tensors": [{"dtype": "float64", "shape": [2**31, 2**31]}]}), "exceed"),
    (frame({"body": {"$tensor": 3}, "tensors": []}), "unexpected node"),
    (frame({"body": {"$pickle": "gASV"}, "tensors": []}), "unexpected node"),
    (frame({"body": json.loads("[" * 40 + "]" * 40), "tensors": []}), "too deeply"),
])
def test_malformed_frames_are_refused(read, message):
    with pytest.raises(wire.WireError, match=message):
        wire.decode(read, LIMIT)


def test_truncated_tensor_bytes_are_an_error():
    read = frame({"body": {"$tensor": 0}, "tensors": [{"dtype": "float32", "shape": [4]}]}, b"\0" * 8)

    def read_exact(n):
        data = read(n)
        if len(data) < n:
            raise EOFError
        return data
    with pytest.raises(EOFError):
        wire.decode(read_exact, LIMIT)


def test_encoder_refuses_values_over_the_limit():
    with pytest.raises(wire.WireError, match="exceeds"):
        wire.encode(torch.zeros(1000), 1000)
