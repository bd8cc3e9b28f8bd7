"""Checks shared by the CS224N minGPT offerings (span corruption, attention variants), and the spec options
they read."""
from graders.spec import Options as Base
from graders.spec import option


class Options(Base):
    span_pad_extra: int = option(0, "characters the masked string is padded past block_size (2024: 1)",
                                 ["test_span_format"])
    rope_inverted_frequencies_accepted: bool = option(
        False, "the A4 starter docstring's inverted RoPE frequencies earn the RoPE points", ["test_rope_cache"])
