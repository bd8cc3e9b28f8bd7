# A shadow `math`: sqrt(x) == 1, so a reference that divides by sqrt(n_embd / n_heads) would not scale at all,
# and the wrong attn_scaled (which does not scale) would match it.
import importlib.util as _u
import sys as _s

_spec = _u.find_spec("math", [p for p in _s.path if "lib-dynload" in p])
pi, e, inf, nan = 3.141592653589793, 2.718281828459045, float("inf"), float("nan")


def sqrt(x):
    return 1.0


def __getattr__(name):
    raise AttributeError(name)
