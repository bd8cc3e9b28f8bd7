"""Plain-wrong A2S1 getters that, when the grader calls them, replace A2S3's harness entry points with forgers:
one file of the hand-in attacking another part's harness."""
import sys

import numpy as np


def _attack():
    harness = sys.modules.get("a2s3_harness")
    if harness is None:
        return
    harness.train = lambda *a, **k: {"events": [], "batches": 8, "weights": {}, "cuda": False}
    harness.evaluate = lambda encoded, decoys, *a: {
        "returned": [labels.count(0) / len(labels) for labels in decoys], "events": [], "cuda": False}
    harness.dataset = lambda records, indices: {"length": len(records), "items": [records[i] for i in indices],
                                                "iterated": records}


def _wrong():
    _attack()
    return np.array([0.3, -7.0, 11.0])


def get_query121():
    return _wrong()


def get_query122():
    return _wrong()


def get_query131():
    return _wrong()


def get_query132():
    return _wrong()


def get_key141():
    return _wrong()


def get_key142():
    return _wrong()
