"""The handout of UW CSE 447/517 A2 §1 (A2S1): its fixed keys and values, the outputs each answer must give, and
its own attention checker. All of it is printed in the handout, so the student kit ships it: the A2S1 checks call
attention on the student's own query, which no recording could answer (the solution stays in reference/a2s1.py).

The handout draws K and V with torch.manual_seed(447) as randn(4, 3), normalises each row and rounds it to 2
decimals; it prints them, and these are those printed values. Its attention is softmax(q Kᵀ) V, unscaled
(scaled_dot_product_attention with scale=1).
"""
import torch

K = torch.tensor([[0.47, 0.65, 0.60], [0.64, 0.50, -0.59], [-0.03, -0.48, -0.88], [0.43, -0.83, 0.35]],
                 dtype=torch.float64)
V = torch.tensor([[-0.07, -0.88, 0.47], [0.37, -0.93, -0.07], [-0.25, -0.75, 0.61], [0.94, 0.20, 0.28]],
                 dtype=torch.float64)

# The value rows each answer's attention must average, one tuple per query row (one row selects a value).
ROWS = {
    "query121": [(0,)],                    # 1.2.1 select v0
    "query122": [(0,), (1,), (2,), (3,)],  # 1.2.2 the identity: row i selects v_i
    "query131": [(0, 1, 2, 3)],            # 1.3.1 the mean of all values
    "query132": [(0, 1)],                  # 1.3.2 the mean of v0 and v1
    "m_key141": [(0, 1, 2)],               # 1.4.1 with a new k2, query132 averages v0, v1 and v2
    "m_key142": [(2,)],                    # 1.4.2 with a new unit k2, query132 selects v2
}


def weights(q, keys=K, scale=1.0):
    return torch.softmax(scale * q @ keys.T, dim=-1)


def attention(q, keys=K, scale=1.0):
    """The handout's attention of queries q (n, 3) over `keys` and V; `scale` 1 as the handout sets it."""
    return weights(q, keys, scale) @ V


def target(rows):
    """The output attention must give: for each query row, the mean of the value rows it names."""
    return torch.stack([V[list(r)].mean(0) for r in rows])
