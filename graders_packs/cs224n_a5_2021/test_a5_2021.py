"""CS224N A5 (2021): span corruption (x and y of block_size - 1 ids) and the Synthesizer."""
from graders_packs.cs224n.span import *  # noqa: F403 - the shared span-corruption checks
from graders_packs.cs224n.synthesizer import *  # noqa: F403 - the Synthesizer checks
