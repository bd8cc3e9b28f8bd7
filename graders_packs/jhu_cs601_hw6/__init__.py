"""Checks for JHU CS601 hw6: fine-tuning a Hugging Face encoder (full, head, prefix, LoRA), and the spec options
they read."""
from graders.spec import Options as Base
from graders.spec import option


class Options(Base):
    lora_required: bool = option(False, "LoRA is part of the assignment: a classification.py that never mentions "
                                 "LoRA or peft fails the LoRA checks (else they pass with a note)",
                                 ["test_lora_forward", "test_lora_trainable"])
