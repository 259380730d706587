"""ember: a deep-learning library with PyTorch's API and its own engine on NumPy and CuPy.

``import ember as torch`` runs PyTorch tutorials; see README.md and docs/architecture.md.
"""

__version__ = "0.1.0"

from . import backend
from .backend.threads import get_num_threads, set_num_threads
from .device import device
from .dtype import (
    bool_ as bool, double, dtype, float, float16, float32, float64, get_default_dtype, half,
    int, int8, int16, int32, int64, long, promote_types, result_type, set_default_dtype,
    short, uint8,
)
from .size import Size
from . import autograd
from .autograd import enable_grad, inference_mode, no_grad, set_grad_enabled
from .autograd.grad_mode import is_grad_enabled, is_inference, is_inference_mode_enabled
from .autograd.anomaly_mode import (
    is_anomaly_check_nan_enabled, is_anomaly_enabled, set_anomaly_enabled,
)
from . import ops
from .ops import indexing as _indexing
from .ops import return_types
from .tensor import Tensor
from ._tensor_str import get_printoptions, printoptions, set_printoptions
from .random import Generator, initial_seed, manual_seed, seed, get_rng_state, set_rng_state
from .random import default_generator
from .creation import (
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, hamming_window,
    hann_window, linspace, normal, ones, ones_like, rand, rand_like, randint, randint_like,
    randn, randn_like, randperm, scalar_tensor, tensor, zeros, zeros_like,
)
from .functions import *  # noqa: F403
from . import cuda, backends, accelerator, version
from . import functions as _functions

__all__ = ["Tensor", "tensor", "device", "dtype", "Size", "autograd", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "manual_seed", "Generator"] + _functions.__all__
from . import nn, optim  # noqa: E402
from . import utils  # noqa: E402
from . import serialization  # noqa: E402
from .serialization import load, save  # noqa: E402
from . import hub  # noqa: E402
