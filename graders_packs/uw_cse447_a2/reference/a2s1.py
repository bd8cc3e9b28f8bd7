"""UW CSE 447/517 A2 §1 (A2S1): attention as selection and averaging, with the handout's fixed keys and values.

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


# A solution. A query along k_i scaled up selects v_i (k_i is nearly unit, other keys score much lower); the
# zero query gives uniform weights; a query along k0 + k1 scores k0 and k1 alike and far above k2 and k3.
QUERY132 = 20 * (K[0] + K[1])


def answers():
    """The reference answers, by name of ROWS."""
    k141, k142 = K.clone(), K.clone()
    k141[2] = (K[0] + K[1]) / 2            # scores like k0 and k1 against query132
    k142[2] = QUERY132 / QUERY132.norm()   # unit, along query132: scores |q| > q·k0, q·k1
    return {"query121": 20 * K[:1], "query122": 20 * K, "query131": torch.zeros(1, 3), "query132": QUERY132[None],
            "m_key141": k141, "m_key142": k142}
