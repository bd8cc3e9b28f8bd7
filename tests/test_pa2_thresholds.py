"""UCSD CSE 256 PA2's threshold checks through the real runner (local, sandboxed), smoke profile: the reference
passes both; a decoder whose mask is discarded still trains a classifier that passes part 1 (its encoder is
fine) but fails part 2 on the trained model's causality probe, whatever its perplexity. Calibration over seeds
and variants: benchmarks/pa2_smoke.py."""

from graders import packs, runners, thresholds
from graders import spec as specs

SAMPLES = packs.samples("ucsd-cse256-pa2")


def test_reference_passes_and_a_leaking_decoder_fails():
    spec = specs.get("ucsd-cse256-pa2")
    graded = thresholds.evaluate({"ref": SAMPLES / "reference", "leak": SAMPLES / "bug-tril-discarded"}, spec,
                                 "smoke", runners.Options())
    ref, leak = graded["ref"][0], graded["leak"][0]
    for check in ("threshold_classifier_accuracy", "threshold_decoder_perplexity"):
        assert ref[check].passed and "reached" in ref[check].output, ref[check].output
    assert leak["threshold_classifier_accuracy"].passed, leak["threshold_classifier_accuracy"].output
    decoder = leak["threshold_decoder_perplexity"]
    assert not decoder.passed and decoder.bug == "the decoder sees the future", decoder.output
    curves = [f for f in graded["ref"][1] if f["kind"] == "curves"]
    assert len(curves) == 2


def test_decoders_that_main_py_names_train():
    """The jobs build the models as the checks do, with main.py's reading: a decoder whose embedding size only
    main.py names (width=n_embd) trains, and the decoder main.py hands to compute_perplexity trains rather than
    a leaking draft whose name says decoder (GPTDraft), which would fail the causality probe."""
    spec = specs.get("ucsd-cse256-pa2").only(["threshold_decoder_perplexity"])
    graded = thresholds.evaluate({"width": SAMPLES / "correct-main-width",
                                  "names": SAMPLES / "correct-main-misleading-names"}, spec, "smoke", runners.Options())
    for student in ("width", "names"):
        decoder = graded[student][0]["threshold_decoder_perplexity"]
        assert decoder.passed and "reached" in decoder.output, decoder.output


def test_untrained_models_fail_both_thresholds():
    """With no training step the reference's classifier guesses and its decoder knows no more than the vocabulary:
    both thresholds are reported not reached (the checks can fail on their metric alone)."""
    spec = specs.get("ucsd-cse256-pa2")
    untrained = {"classifier": {"epochs": 0}, "decoder": {"max_iters": 0}}
    jobs = {name: job.model_copy(update={"profiles": {"smoke": job.profiles["smoke"].model_copy(
        update={"hp": untrained[name]})}}) for name, job in spec.jobs.items()}
    graded = thresholds.evaluate({"ref": SAMPLES / "reference"}, spec.model_copy(update={"jobs": jobs}), "smoke",
                                 runners.Options())["ref"][0]
    for check in ("threshold_classifier_accuracy", "threshold_decoder_perplexity"):
        assert not graded[check].passed and "not reached" in graded[check].output, graded[check].output
        assert graded[check].bug is None
