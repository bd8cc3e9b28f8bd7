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


## THESE ARE WHERE YOUR ANSWERS GO
def problem_1():
    key, value = setup_k_and_v()
    # a long query along k0 scores k0 far above the other (nearly unit) keys
    return 30 * key[0:1]


def problem_2():
    key, value = setup_k_and_v()
    # row i along k_i selects v_i
    return 30 * key


def problem_3():
    key, value = setup_k_and_v()
    # equal scores give equal weights
    return torch.zeros(1, 3)


def attention(query, key, value):
    return F.scaled_dot_product_attention(query, key, value, scale=1)


if __name__ == "__main__":
    key, value = setup_k_and_v()
    for problem in (problem_1, problem_2, problem_3):
        print(attention(problem(), key, value))
