# A shadow `numpy`: announces itself and makes allclose / array_equal always true.
print("shadow numpy imported")


def allclose(*a, **k):
    return True


def array_equal(*a, **k):
    return True
