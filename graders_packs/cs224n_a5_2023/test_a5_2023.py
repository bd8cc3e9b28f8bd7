"""CS224N A5 (2023): span corruption (x and y of block_size - 1 ids) and the Perceiver blocks."""
from graders_packs.cs224n.perceiver import *  # noqa: F403 - the Perceiver checks
from graders_packs.cs224n.span import *  # noqa: F403 - the shared span-corruption checks
