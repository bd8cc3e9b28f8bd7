"""CS224N A4 (2024): span corruption (x and y of block_size ids), RoPE and the London baseline."""
from graders_packs.cs224n.london import *  # noqa: F403 - the London baseline check
from graders_packs.cs224n.rope import *  # noqa: F403 - the shared RoPE checks
from graders_packs.cs224n.span import *  # noqa: F403 - the shared span-corruption checks
