# A2S1: understanding attention. The handout's keys and values, then one answer per question.
import torch
import torch.nn.functional as F

torch.manual_seed(447)

key = torch.randn(4, 3)
key /= torch.norm(key, dim=1, keepdim=True)
key.round_(decimals=2)

value = torch.randn(4, 3)
value /= torch.norm(value, dim=1, keepdim=True)
value.round_(decimals=2)


def attention(query, key, value):
    """Note that we remove scaling for simplicity."""
    return F.scaled_dot_product_attention(query, key, value, scale=1)


def check_query(query, target, key, value):
    a_out = attention(query, key, value)
    return (target - a_out).abs().max()


# 1.2.1: a long query along k0 gives k0 the top score by far, so attention selects v0.
query121 = 20 * key[0:1]
assert check_query(query121, value[0], key, value) < 0.05

# 1.2.2: row i along k_i selects v_i: the identity.
query122 = 20 * key
assert check_query(query122, value, key, value) < 0.05

# 1.3.1: the zero query scores every key alike, so attention is the mean of all values.
query131 = torch.zeros(1, 3)
assert check_query(query131, value.mean(0), key, value) < 0.05

# 1.3.2: along k0 + k1, k0 and k1 score alike and far above k2 and k3.
query132 = 20 * (key[0:1] + key[1:2])
assert check_query(query132, value[:2].mean(0), key, value) < 0.05

# 1.4.1: a new k2 halfway between k0 and k1 scores like them against query132.
m_key = key.clone()
m_key[2] = (key[0] + key[1]) / 2
assert check_query(query132, value[:3].mean(0), m_key, value) < 0.05

# 1.4.2: a unit k2 along query132 scores |query132|, above q.k0 and q.k1.
m_key = key.clone()
m_key[2] = query132[0] / query132[0].norm()
assert check_query(query132, value[2], m_key, value) < 0.05
