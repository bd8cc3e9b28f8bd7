"""UW CSE 447/517 A2 §1 (A2S1): a solution, for the handout's keys and values (handout_a2s1.py)."""
import torch

from graders_packs.uw_cse447_a2.handout_a2s1 import K

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
