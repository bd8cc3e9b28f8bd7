"""UCSD CSE 256 PA2's checks, and the spec options they read (each spec says why next to its value)."""
from graders.spec import Options as Base
from graders.spec import option


class Options(Base):
    alibi_required: bool = option(True, "part 3 must use ALiBi (else a submission without it passes with a note)",
                                  ["test_alibi_slopes"])
    padding_mask_asked: bool = option(True, "the handout asks the encoder to mask padding (else the check reports)",
                                      ["test_encoder_padding_masked"])
    misnamed_transformer_accepted: bool = option(
        True, "transformer.py found by content under another name earns its interface points",
        ["test_encoder_interface", "test_decoder_interface"])
