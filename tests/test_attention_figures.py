"""The attention maps of the CS224N and hw5 reports, read through the module's output (graders/checks/figures.py):
a correct variant draws the reference's map (a difference of 0 everywhere), a known bug a map that differs, and a
module whose output cannot be read says so instead of drawing."""
import shutil

import pytest

from graders import grade, packs
from graders import spec as specs
from graders.submission import scratch_dir


def drawn(assignment, path):
    """The figures the assignment's figures module draws for the submission at `path`."""
    spec, scratch = specs.get(assignment), scratch_dir()
    try:
        with grade.prepared(path, spec, scratch) as (submission, _):
            return grade.figures(spec, submission)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def largest_difference(figure):
    panel = next(p for p in figure["panels"] if p.get("scale") == "difference")
    return max(abs(v) for row in panel["matrix"] for v in row)


@pytest.mark.parametrize(("assignment", "correct", "bug"), [
    ("cs224n-a4-2024", "attn-correct-complex", "attn-bug-q-only"),
    ("cs224n-a5-2021", "attn-correct-einsum", "attn-bug-no-mask"),
    ("jhu-cs601-hw5", "correct-loop-heads", "bug-mask-triu"),
])
def test_a_bug_shows_in_the_difference_and_a_correct_variant_does_not(assignment, correct, bug):
    good, bad = (drawn(assignment, packs.samples(assignment) / name) for name in (correct, bug))
    assert len(good) == len(bad) == 2  # one figure per head
    for figure in good:
        assert [p["label"] for p in figure["panels"]] == ["your code", "reference", "your code − reference"]
        assert largest_difference(figure) < 1e-5
        assert len(figure["panels"][0]["matrix"]) == 8 and "one-hot positions" in figure["caption"]
    assert max(largest_difference(f) for f in bad) > 0.2


def test_a_fused_projection_gets_the_weights_in_its_order():
    """A correct module with q, k and v in one projection (nanoGPT's c_attn) draws the reference's map."""
    figures = drawn("cs224n-a4-2024", packs.samples("cs224n-a4-2024") / "correct-fused-qkv")
    assert [len(f["panels"]) for f in figures] == [3, 3] and max(map(largest_difference, figures)) < 1e-5


def test_the_perceiver_cross_attention_is_drawn_and_its_caption_says_what_it_shows(tmp_path):
    """The map is of attention.py's CausalCrossAttention (6 latent rows over 8 inputs), not of the blocks: the
    caption says so. A cross-attention without its causal mask shows in the difference."""
    folder = packs.samples("cs224n-a5-2023") / "reference"
    good = drawn("cs224n-a5-2023", folder)
    assert len(good[0]["panels"][1]["matrix"]) == 6 and len(good[0]["panels"][1]["matrix"][0]) == 8
    assert largest_difference(good[0]) < 1e-5 and "cannot be read through their output" in good[0]["caption"]
    shutil.copytree(folder, tmp_path / "s")
    source = (tmp_path / "s" / "attention.py").read_text()
    masking = "att = att.masked_fill(self.mask[:,:,:Tq,:Tk] == 0, -1e10)"
    assert source.count(masking) == 1
    (tmp_path / "s" / "attention.py").write_text(source.replace(masking, "pass"))
    assert largest_difference(drawn("cs224n-a5-2023", tmp_path / "s")[0]) > 0.2


def test_a_map_that_cannot_be_read_says_why():
    figures = drawn("jhu-cs601-hw5", packs.samples("jhu-cs601-hw5") / "bug-returns-tuple")
    assert [p["label"] for p in figures[0]["panels"]] == ["reference"]
    assert figures[0]["caption"].startswith("Your code could not draw this map: the module returned tuple")
