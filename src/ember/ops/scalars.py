"""Python-number operands as cached 0-d arrays, for the hot paths of small tensors."""

from __future__ import annotations

import numpy as np

SCALAR_ARRAYS: dict = {}  # NumPy dtype -> {number: read-only 0-d array}
# Floating dtypes whose ops with a Python number take the fast paths (a cached 0-d array of
# the same dtype); float16 takes the general path, where multiply and the divisions take the
# number at float precision, as PyTorch's kernels do (``_apply.HALF_NUMBER_IN_FLOAT``).
FAST_FLOATS = frozenset((np.dtype(np.float32), np.dtype(np.float64)))


def scalar_array(b, dt):
    """A cached read-only 0-d array for a Python scalar operand of a float array.

    NumPy's ufuncs take a Python scalar much more slowly than a 0-d array of the same
    dtype; constants in a loop repeat, so they are converted once. Zeros (their sign) and
    NaNs stay Python scalars.
    """
    cache = SCALAR_ARRAYS.get(dt)
    if cache is None:
        cache = SCALAR_ARRAYS[dt] = {}
    arr = cache.get(b)
    if arr is None:
        if b == 0 or b != b:
            return b
        if len(cache) >= 512:
            cache.clear()
        arr = np.array(b, dtype=dt)
        arr.flags.writeable = False
        cache[b] = arr
    return arr
