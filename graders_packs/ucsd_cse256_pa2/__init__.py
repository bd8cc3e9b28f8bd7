"""UCSD CSE 256 PA2's checks. OPTIONS: the spec options they read, each with the type it must have and the checks
that read it (tests/test_spec.py holds every offering's spec to the types; tests/test_samples.py asks an offering
that sets one otherwise than its base for samples of those checks); each spec says why next to its value."""
from typing import NamedTuple


class Option(NamedTuple):
    type: type
    checks: tuple[str, ...]


OPTIONS = {
    # part 3 must use ALiBi (else a submission without it passes with a note)
    "alibi_required": Option(bool, ("test_alibi_slopes",)),
    # the handout asks the encoder to mask padding (else the check only reports)
    "padding_mask_asked": Option(bool, ("test_encoder_padding_masked",)),
    # transformer.py found by content under another name earns its interface points
    "misnamed_transformer_accepted": Option(bool, ("test_encoder_interface", "test_decoder_interface")),
}
