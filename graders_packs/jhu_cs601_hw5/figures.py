"""The report's pictures of hw5: each head's map of the student's CausalSelfAttention next to the reference's, read
through the output (graders/checks/figures.py): c_attn's value rows copy the one-hot positions and c_proj is the
identity."""
import torch

from graders.checks.figures import maps_read_through_output, positions_as_values
from graders_packs.jhu_cs601_hw5 import reference as ref
from graders_packs.jhu_cs601_hw5.checks import CLASS, hw5_config

N_HEAD, HEAD, T, BLOCK = 2, 16, 8, 16


def figures(submission):
    cfg = hw5_config(N_HEAD * HEAD, N_HEAD, BLOCK)
    E = cfg.n_embd
    torch.manual_seed(0)
    reference = ref.CausalSelfAttention(cfg)
    with torch.no_grad():
        for weight in reference.parameters():
            weight.uniform_(-0.5, 0.5)
        reference.c_attn.weight[2 * E:].copy_(positions_as_values(E, N_HEAD, T))
        reference.c_attn.bias[2 * E:].zero_()
        reference.c_proj.weight.copy_(torch.eye(E))
        reference.c_proj.bias.zero_()
    return maps_read_through_output("CausalSelfAttention", reference,
                                    lambda: getattr(submission.module("gpt/model.py"), CLASS)(cfg), N_HEAD, T, E)
