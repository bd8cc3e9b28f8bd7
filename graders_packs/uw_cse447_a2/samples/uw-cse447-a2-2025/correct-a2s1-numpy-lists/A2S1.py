import torch
import torch.nn.functional as F


# DO NOT MODIFY THIS FUNCTION
def setup_k_and_v():
    torch.manual_seed(447)

    key = torch.randn(4, 3)
    key /= torch.norm(key, dim=1, keepdim=True)
    key.round_(decimals=2)

    value = torch.randn(4, 3)
    value /= torch.norm(value, dim=1, keepdim=True)
    value.round_(decimals=2)
    return key, value

import numpy as np


## THESE ARE WHERE YOUR ANSWERS GO
def problem_1():
    return [0.47 * 40, 0.65 * 40, 0.60 * 40]         # k0 as printed, scaled up: shape (3,)


def problem_2():
    key, _ = setup_k_and_v()
    return np.linalg.pinv(key.double().numpy().T) * 60  # rows r_i with r_i . k_j = 60 [i == j]


def problem_3():
    return [[0.0, 0.0, 0.0]]
