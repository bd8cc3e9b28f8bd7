"""The report's pictures of PA2: the first layer's first head of the student's encoder and decoder on a padded
sentence, as the starter's sanity_check plots them, next to the reference's (its own weights, so compare the
shape: padding columns empty, the decoder's upper triangle empty) and the attention the student's gives where the
reference's is empty, which shows a mask one position off that the maps themselves barely do."""
import torch

from graders.checks.figures import attention_maps
from graders.problems import SubmissionProblem
from graders_packs.ucsd_cse256_pa2 import roles
from graders_packs.ucsd_cse256_pa2.reference import Decoder, Encoder

T, REAL = 16, 11  # a sentence of 11 tokens padded with id 0 to 16


def student_map(submission, role, x):
    """(first-layer first-head map or None, why not)."""
    try:
        model = roles.model_for(roles.found(submission), role)  # the model the role's checks grade
        kind = roles.classify(roles.run(model.obj, x, model.plan), *x.shape)
        maps = kind and roles.layer_maps(kind[2], *x.shape)
        return (maps[0][0][0, 0].double(), None) if maps else (None, f"the {role} returned no attention maps")
    except SubmissionProblem as e:
        return None, f"Your code could not draw this map: {e}"


def figures(submission):
    x = roles.ids(1, T, 6, pad_from=REAL)
    hp = {k: roles.HP[k] for k in ("vocab_size", "n_embd", "n_head", "n_layer", "block_size")}
    torch.manual_seed(0)
    references = {"encoder": Encoder(**hp).eval(), "decoder": Decoder(**hp, n_hidden=roles.HP["n_hidden"]).eval()}
    out = []
    for role, reference in references.items():
        with torch.no_grad():
            expected = reference(x)[1][0][0, 0]
        got, why = student_map(submission, role, x)
        caption = (f"{REAL} tokens padded with id 0 to {T}, as sanity_check pads a sentence. Rows are queries, "
                   "columns keys; the reference has weights of its own, so compare the pattern. The third panel is "
                   "the attention your code gives where the reference gives none (a later token, padding): white "
                   "where your masks agree.")
        out.append(attention_maps(f"The {role}'s attention, layer 1, head 1", why or caption, got, expected,
                                  same_weights=False))
    return out
