"""UCSD CSE 256 PA2's checks. OPTIONS: the spec options they read, by the type each must have (tests/test_spec.py
holds every offering's spec to them); the offerings differ in them, and each spec says why next to its value."""
OPTIONS = {
    "alibi_required": bool,      # part 3 must use ALiBi (else a submission without it passes with a note)
    "padding_mask_asked": bool,  # the handout asks the encoder to mask padding (else the check only reports)
    "misnamed_transformer_accepted": bool,  # transformer.py found by content under another name earns its points
}
