import numpy as np
import torch
import torch.nn as nn
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


## THESE ARE WHERE YOUR ANSWERS GO
def problem_1():
    key, value = setup_k_and_v()
    LARGE_NUM = 5e5
    query_1 = torch.zeros(1, key.shape[0])
    query_1[0, 0] += LARGE_NUM
    query_1 = query_1 @ key @ torch.linalg.inv(key.T @ key)
    return query_1


def problem_2():
    key, value = setup_k_and_v()
    k = key.double().numpy()
    return 1e3 * np.eye(4) @ k @ np.linalg.inv(k.T @ k)


def problem_3():
    key, value = setup_k_and_v()
    query_3 = torch.zeros(1, key.shape[0])
    query_3 += 1 / key.shape[0]
    query_3 = query_3 @ key @ torch.linalg.inv(key.T @ key)
    return query_3


def get_query132():
    key, _ = setup_k_and_v()
    return 25 * (key[0] + key[1])


def get_key141():
    key, _ = setup_k_and_v()
    return 0.5 * (key[0] + key[1])


def get_key142():
    q = get_query132()
    return q / torch.linalg.norm(q)


def attention(query, key, value):
    return F.scaled_dot_product_attention(query, key, value, scale=1)


if __name__ == "__main__":
    key, value = setup_k_and_v()
    print(attention(problem_1(), key, value))
