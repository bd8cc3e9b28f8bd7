import torch
import torch.nn.functional as F

torch.manual_seed(447)

key = torch.randn(4, 3)
key /= torch.norm(key, dim=1, keepdim=True)
key.round_(decimals=2)

value = torch.randn(4, 3)
value /= torch.norm(value, dim=1, keepdim=True)
value.round_(decimals=2)

print(f"key:\n{key}")
print(f"value:\n{value}")
key = key.double()

query121 = torch.nn.Parameter(100 * key[0])
query122 = 100 * key
query131 = 0 * key[0]
query132 = 30 * (key[0] + key[1]).unsqueeze(0)

k2 = torch.stack([key[0], key[1]]).mean(0)
m_key = torch.cat([key[:2], k2[None], key[3:]])

k2 = query132[0] / query132[0].norm()
m_key = torch.cat([key[:2], k2[None], key[3:]])
