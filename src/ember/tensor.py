"""``Tensor``: an array with a dtype and device, autograd fields, and Python operators.

The array is a NumPy array on the CPU or a CuPy array on a GPU. Views share the array's
memory (and a version counter) with their base. Every operator calls an op from ``ops``.
"""

from __future__ import annotations

import sys
import warnings
import weakref

import numpy as np

from . import ops
from ._tensor_str import format_tensor
from .autograd import api as autograd_api
from .autograd.api import check_assigned_grad
from .autograd.forward_grad import AfterOp
from .autograd.grad_mode import INFERENCE_SWITCHES, INFERENCE_VERSION, GradMode
from .backend import array_device, as_host, cuda_index, data_ptr, storage_offset, to_device
from .device import CPU, device
from .dtype import FROM_NUMPY, _Default, dtype, get_default_dtype
from .ops import pointwise as P
from .ops._apply import after_op, binary, float_unary, scalar_operator
from .ops.indexing import getitem_int as _getitem_int
from .ops.inplace import (
    inplace,
    inplace_binary,
    move_retain_grad,
)
from .ops.reduction import UNSET as _UNSET
from .ops.registry import Bound, edge_of, record
from .ops.shape import (
    empty_layout,
    from_multi_view,
    multi_view_error,
    regenerate_grad_fn,
    view_dtype,
)
from .size import Size

_new_object = object.__new__
_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information.")
_ndarray = np.ndarray
# ``x ** 2`` of a float tensor is np.square (POW_SQUARE); P.pow decides everything else.
_square = scalar_operator(P.POW_SQUARE, fallback=P.pow)
_size_of = Size._of


def _as_array(data):
    # NumPy returns scalars, not 0-d arrays, from full reductions and 0-d arithmetic.
    if isinstance(data, np.generic):
        return np.asarray(data)
    return data


class Tensor:
    """A multi-dimensional array that can record the operations applied to it."""

    __slots__ = ("_data", "_rg", "_grad", "_grad_fn", "_output_nr", "_vc", "_base", "_view",
                 "_accumulator", "__weakref__")
    __array_priority__ = 1000  # NumPy scalars defer to Tensor's reflected operators
    __module__ = "ember"  # prints as <class 'ember.Tensor'>, as torch's prints torch.Tensor

    def __new__(cls, *args, **kwargs):
        if cls is Tensor and args:
            raise TypeError("use ember.tensor(data) to make a tensor from data")
        return _new_object(cls)

    # ---- construction --------------------------------------------------------------------
    @staticmethod
    def _make(data, requires_grad: bool = False) -> Tensor:
        if data.__class__ is not _ndarray:
            data = _as_array(data)
        t = _new_object(Tensor)
        t._data = data
        t._rg = requires_grad
        t._grad = None
        t._grad_fn = None
        t._output_nr = 0
        t._vc = None
        t._base = None
        t._view = None
        t._accumulator = None
        return t

    # ---- attributes ----------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return _size_of(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape as ``ember.Size``, or the size of dim ``dim``."""
        if dim is None:
            return _size_of(self._data.shape)
        return self._data.shape[_dim_of(self, "size", dim)]

    @property
    def dtype(self) -> dtype:
        return FROM_NUMPY[self._data.dtype]

    @property
    def device(self) -> device:
        return CPU if type(self._data) is np.ndarray else array_device(self._data)

    @property
    def is_cuda(self) -> bool:
        return type(self._data) is not np.ndarray

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def stride(self, dim: int | None = None):
        """The step in elements between neighbours along each dim (or dim ``dim``)."""
        x = self._data
        if x.size:
            strides = tuple(s // x.itemsize for s in x.strides)
        else:  # NumPy's are zeros; PyTorch's follow from the base and the view chain
            strides = empty_layout(self)[0]
        return strides if dim is None else strides[_dim_of(self, "stride", dim)]

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return False

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user, and for those that do not require grad."""
        return self._grad_fn is None or not self._rg

    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point and complex dtype can require "
                               "gradients")
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set whether autograd records operations on this (leaf) tensor; returns self."""
        if not self.is_leaf and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if requires_grad and self._vc is INFERENCE_VERSION and not GradMode.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed.")
        self._rg = bool(requires_grad)
        return self

    @property
    def grad_fn(self):
        """The node that made this tensor (None for leaves)."""
        fn = self._grad_fn
        view = self._view
        if view is not None and view[1] != self._vc[0]:
            base = self._base
            if self._rg and from_multi_view(self):
                raise multi_view_error(self, base_changed=True)
            if base._rg:
                old, old_nr = fn, self._output_nr
                self._grad_fn = fn = regenerate_grad_fn(base, view[0])
                self._output_nr = 0
                self._rg = True
                move_retain_grad(self, old, old_nr, fn)
            self._view = (view[0], self._vc[0])
        return fn

    @property
    def _version(self) -> int:
        vc = self._vc
        if vc is INFERENCE_VERSION:
            raise RuntimeError("Inference tensors do not track version counter.")
        return 0 if vc is None else vc[0]

    def is_inference(self) -> bool:
        """Whether this is an inference tensor: made in ``inference_mode`` (or a view of one).
        Such a tensor cannot be saved for backward or changed in place outside that mode."""
        return self._vc is INFERENCE_VERSION

    def _is_view(self) -> bool:
        """Whether this tensor is a view of another (its ``_base``)."""
        return self._base is not None

    @property
    def data(self) -> Tensor:
        """The same storage as a tensor that does not require grad, with a version counter
        of its own (unlike ``detach()``): changing it in place is not seen by autograd."""
        out = Tensor._make(self._data)
        if self._vc is INFERENCE_VERSION:
            out._vc = INFERENCE_VERSION  # the data of an inference tensor is one too
        return out

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._data = value._data

    # ---- conversions ---------------------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.item() if type(self._data) is np.ndarray else \
            as_host(self._data).item()

    def tolist(self):
        return as_host(self._data).tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as a NumPy array sharing memory (CPU tensors that do not require grad)."""
        if force:
            return as_host(self._data)
        if self._rg:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if type(self._data) is not np.ndarray:
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                            "Tensor.cpu() to copy the tensor to host memory first.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        # PyTorch's: ``self.numpy()``, which refuses a tensor that requires grad and one on
        # a GPU (NumPy functions of a CUDA tensor raise; they never copy it to the host)
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype)

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # A NumPy function of a tensor (``np.exp(t)``, ``t @ ndarray``) returns a tensor, as
        # in PyTorch (which makes a bool result uint8), where ember has the result's dtype.
        array = np.asarray(array)
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)
        return Tensor._make(array) if array.dtype in FROM_NUMPY else array

    def to(self, *args, **kwargs) -> Tensor:
        """Convert to a dtype and/or move to a device: ``to(dtype)``, ``to(device)``,
        ``to(device, dtype)``, ``to(other_tensor)``."""
        dt, dev, copy = None, None, kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        for a in args:
            if isinstance(a, dtype):
                dt = a
            elif isinstance(a, (str, device, int)) and not isinstance(a, bool):
                dev = device(a)
            elif isinstance(a, Tensor):
                dt, dev = a.dtype, a.device
            else:
                raise TypeError(f"to() received an invalid combination of arguments - got "
                                f"({type(a).__name__})")
        if "dtype" in kwargs:
            dt = kwargs.pop("dtype")
        if "device" in kwargs:
            d = kwargs.pop("device")
            dev = device(d) if d is not None else None
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
        out = self
        if dev is not None and dev.type == "cuda" and dev.index is None:
            dev = device("cuda", cuda_index(dev))  # 'cuda' is the current CUDA device
        if dev is not None and dev != out.device:
            out = _to_device(out, dev)
        if dt is not None:
            out = ops.to_dtype(out, dt, copy=copy and out is self)
        elif copy and out is self:
            out = ops.clone(out)
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None, non_blocking: bool = False) -> Tensor:
        if device is None:
            device = "cuda"
        elif isinstance(device, int):
            device = f"cuda:{device}"
        return self.to(device)

    def float(self) -> Tensor:
        return ops.to_dtype(self, _dt.float32)

    def double(self) -> Tensor:
        return ops.to_dtype(self, _dt.float64)

    def half(self) -> Tensor:
        return ops.to_dtype(self, _dt.float16)

    def long(self) -> Tensor:
        return ops.to_dtype(self, _dt.int64)

    def int(self) -> Tensor:
        return ops.to_dtype(self, _dt.int32)

    def short(self) -> Tensor:
        return ops.to_dtype(self, _dt.int16)

    def char(self) -> Tensor:
        return ops.to_dtype(self, _dt.int8)

    def byte(self) -> Tensor:
        return ops.to_dtype(self, _dt.uint8)

    def bool(self) -> Tensor:
        return ops.to_dtype(self, _dt.bool_)

    def type(self, dtype=None, non_blocking: bool = False):
        """The type name (``'ember.FloatTensor'``) or, given a dtype, a converted tensor."""
        if dtype is None:
            return _type_name(self)
        if isinstance(dtype, str):
            dtype = _TYPE_BY_NAME[dtype.replace("torch.", "ember.")]
        return ops.to_dtype(self, dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return ops.to_dtype(self, other.dtype)

    def clone(self, *, memory_format=None) -> Tensor:
        return ops.clone(self)

    def contiguous(self, memory_format=None) -> Tensor:
        return ops.contiguous(self)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad: bool = False):
        """A new tensor holding a copy of ``data``, by default of this tensor's dtype and
        device."""
        from .creation import tensor
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                      requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False):
        """A tensor of zeros of shape ``size``, by default of this tensor's dtype and device."""
        from .creation import zeros
        return zeros(*size, dtype=dtype or self.dtype, device=device or self.device,
                     requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False):
        """A tensor of ones of shape ``size``, by default of this tensor's dtype and device."""
        from .creation import ones
        return ones(*size, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False):
        """An uninitialized tensor of shape ``size``, by default of this tensor's dtype and
        device."""
        from .creation import empty
        return empty(*size, dtype=dtype or self.dtype, device=device or self.device,
                     requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None,
                 requires_grad: bool = False):
        """A tensor of shape ``size`` filled with ``fill_value``, by default of this tensor's
        dtype and device."""
        from .creation import full
        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    def data_ptr(self) -> int:
        """The address of the first element (views share their base's memory)."""
        return data_ptr(self._data)

    def storage_offset(self) -> int:
        """Where this tensor starts in the memory it shares, in elements."""
        if not self._data.size:  # NumPy does not move the pointer for an empty slice
            return empty_layout(self)[1]
        return storage_offset(self._data) // self._data.itemsize

    def detach(self) -> Tensor:
        """A tensor sharing storage (and version counter) that is out of the graph."""
        out = Tensor._make(self._data)
        vc = self._vc
        if vc is None:
            vc = self._vc = [0]
        out._vc = vc
        return out

    def detach_(self) -> Tensor:
        """Take this tensor out of the graph, making it a leaf."""
        if self._base is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in ember/optim/optimizer.py as the solution.")
        self._grad_fn = None
        self._rg = False
        self._output_nr = 0
        return self

    # ---- autograd ------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate the gradient of this tensor w.r.t. graph leaves into their ``.grad``."""
        autograd_api.backward((self,), None if gradient is None else (gradient,), retain_graph,
                            create_graph, inputs=inputs)

    @property
    def grad(self):
        """The gradient that backward accumulated into this tensor (None until then).

        Only leaves (and non-leaf tensors that ``retain_grad()``) get one; reading it on any
        other tensor warns, as in PyTorch."""
        g = self._grad
        if g is None and self._grad_fn is not None and self._rg and not self.retains_grad:
            warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            check_assigned_grad(self, value)
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.is_leaf:
            return
        node = self.grad_fn
        if node._retain_grad_hooks is None:
            node._retain_grad_hooks = {}
        node._retain_grad_hooks[self._output_nr] = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        if self.is_leaf:
            return False
        hooks = self._grad_fn._retain_grad_hooks
        return hooks is not None and self._output_nr in hooks

    def register_post_accumulate_grad_hook(self, hook):
        """``hook(tensor)`` runs on this leaf after backward has accumulated its gradient into
        ``.grad``. Returns a handle whose ``remove()`` takes the hook off."""
        from .autograd.hooks import add_hook
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        node = edge_of(self)[0]
        if node is None:  # a view made in no_grad mode: no gradient ever reaches it
            return add_hook(None, hook)[1]
        self._accumulator = node  # held strongly now: the hook lives on it
        node._post_acc_hooks, handle = add_hook(node._post_acc_hooks, hook)
        return handle

    def register_hook(self, hook):
        """``hook(grad)`` runs when this tensor's gradient is computed; it may return a new
        gradient. Returns a handle whose ``remove()`` takes the hook off."""
        from .autograd.hooks import add_hook
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self.is_leaf:
            node, nr = edge_of(self)
            if node is None:  # a view made in no_grad mode: no gradient ever reaches it
                return add_hook(None, hook)[1]
            self._accumulator = node  # held strongly now: the hook lives on it
        else:
            node, nr = self.grad_fn, self._output_nr
        if node._tensor_pre_hooks is None:
            node._tensor_pre_hooks = {}
        hooks, handle = add_hook(node._tensor_pre_hooks.get(nr), hook)
        node._tensor_pre_hooks[nr] = hooks
        return handle

    # ---- printing ------------------------------------------------------------------------
    def __repr__(self, *, tensor_contents=None) -> str:
        cls = type(self)
        return self._repr("tensor(" if cls is Tensor else cls.__name__ + "(", tensor_contents)

    def _repr(self, prefix: str, tensor_contents=None) -> str:
        """The text ``repr`` prints, opened by ``prefix`` (a subclass prints its name)."""
        fn = self.grad_fn
        dev = self.device
        return format_tensor(
            as_host(self._data), dtype_name=self.dtype.name,
            default_dtype_name=_Default.dtype.name,
            device=None if dev.type == "cpu" else str(dev),
            grad_fn_name=type(fn).__name__ if fn is not None and self._rg else None,
            requires_grad=self._rg and fn is None,
            prefix=prefix, contents=tensor_contents,
            tangent=_tangent_repr(self) if AfterOp.on else None,
        )

    def __format__(self, spec: str) -> str:
        # As in PyTorch, only a plain 0-d tensor formats as its Python number.
        if self._data.ndim == 0 and type(self) is Tensor:
            return self._data.item().__format__(spec)
        return object.__format__(self, spec)

    # ---- Python protocol -----------------------------------------------------------------
    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self.select(0, i) for i in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        n = self._data.size
        if n != 1:
            what = "no values" if n == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {what} is ambiguous")
        return bool(self.item())

    def __float__(self) -> float:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self) -> int:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __hash__(self) -> int:
        return id(self)

    def __getitem__(self, index):
        if type(index) is int:  # t[i], per-sample indexing: one call to the view
            return _getitem_int(self, index)
        return ops.indexing.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        ops.indexing.setitem(self, index, value)

    def __delitem__(self, index) -> None:
        raise TypeError("Tensor does not support deleting items")

    def index_put_(self, indices, values, accumulate: bool = False):
        """Write ``values`` at ``indices`` (a tuple of index tensors) in place; with
        ``accumulate`` they are added instead."""
        return ops.indexing.index_put_(self, indices, values, accumulate)

    def index_put(self, indices, values, accumulate: bool = False):
        """Out-of-place ``index_put_``."""
        return ops.indexing.index_put(self, indices, values, accumulate)

    def __reduce_ex__(self, protocol):
        data = self._data
        if type(data) is np.ndarray:
            return (_rebuild, (data, self._rg))
        # (pickle, copy.copy) a GPU tensor comes back on its device, as in PyTorch
        return (_rebuild, (as_host(data), self._rg, str(self.device)))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "ember.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        out = Tensor._make(self._data.copy(), self._rg)
        if self.grad is not None:
            out.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = out
        return out

    # ---- arithmetic operators -------------------------------------------------------------
    # A small float tensor and a Python number take scalar_operator's shortcut; anything
    # else goes on to binary (or to the op's function, which checks more).
    __add__ = __radd__ = scalar_operator(P.ADD)
    __sub__ = scalar_operator(P.SUB, fallback=P.sub)  # P.sub refuses bools, as PyTorch does

    def __rsub__(self, other):
        return P.rsub(self, other)

    __mul__ = __rmul__ = scalar_operator(P.MUL)
    __truediv__ = scalar_operator(P.DIV, "float")

    def __rtruediv__(self, other):
        if type(other) not in (int, float, bool):
            if not isinstance(other, np.generic):
                return NotImplemented
            other = other.item()
        return P.reciprocal(self) * other

    def __floordiv__(self, other):
        return P.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return P.floor_divide(other, self)

    def __mod__(self, other):
        return P.remainder(self, other)

    def __rmod__(self, other):
        return P.remainder(other, self)

    def __pow__(self, exponent):
        if exponent.__class__ is int and exponent == 2:
            return _square(self, 2)  # x ** 2, the common case
        return P.pow(self, exponent)

    def __rpow__(self, base):
        if type(base) not in (int, float, bool):
            if not isinstance(base, np.generic):
                return NotImplemented
            base = base.item()
        return P.pow(base, self)

    def __matmul__(self, other):
        if not isinstance(other, Tensor):
            # Python's "unsupported operand type(s) for @", as torch; a NumPy array's own
            # ``__rmatmul__`` computes it and ``__array_wrap__`` makes it a tensor
            return NotImplemented
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return NotImplemented

    def __neg__(self):
        return P.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return P.abs(self)

    def __invert__(self):
        return P.invert(self)

    def __and__(self, other):
        return P.bitwise_and(self, other)

    __rand__ = __and__

    def __or__(self, other):
        return P.bitwise_or(self, other)

    __ror__ = __or__

    def __xor__(self, other):
        return P.bitwise_xor(self, other)

    __rxor__ = __xor__

    def __eq__(self, other):
        return P.eq_operator(self, other)

    def __ne__(self, other):
        return P.ne_operator(self, other)

    def __lt__(self, other):
        return P.lt_operator(self, other)

    def __le__(self, other):
        return P.le_operator(self, other)

    def __gt__(self, other):
        return P.gt_operator(self, other)

    def __ge__(self, other):
        return P.ge_operator(self, other)

    # ---- in-place operators ---------------------------------------------------------------
    def __iadd__(self, other):
        return inplace_binary(self, P.ADD, other)

    def __isub__(self, other):
        return inplace_binary(self, P.SUB, other, fallback=P.sub)  # P.sub refuses bools

    def __imul__(self, other):
        return inplace_binary(self, P.MUL, other)

    def __itruediv__(self, other):
        return inplace_binary(self, P.DIV, other, "float")

    def __ifloordiv__(self, other):
        return P.promoted_inplace(self, P.floor_divide, other)

    def __imod__(self, other):
        return P.promoted_inplace(self, P.remainder, other)

    def __ipow__(self, exponent):
        return inplace(self, P.pow, exponent)

    def __iand__(self, other):
        return P.promoted_inplace(self, P.bitwise_and, other)

    def __ior__(self, other):
        return P.promoted_inplace(self, P.bitwise_or, other)

    def __ixor__(self, other):
        return P.promoted_inplace(self, P.bitwise_xor, other)

    def add_(self, other, *, alpha=1):
        if alpha != 1 or type(alpha) is bool:
            return inplace(self, lambda x, o: P.add(x, o, alpha=alpha), other)
        return inplace_binary(self, P.ADD, other)

    def sub_(self, other, *, alpha=1):
        if alpha != 1 or type(alpha) is bool:
            return inplace(self, lambda x, o: P.sub(x, o, alpha=alpha), other)
        return inplace_binary(self, P.SUB, other, fallback=P.sub)

    def mul_(self, other):
        return inplace_binary(self, P.MUL, other)

    def div_(self, other, *, rounding_mode=None):
        if rounding_mode is not None:
            return P.promoted_inplace(self, P.div, other, rounding_mode=rounding_mode)
        return inplace_binary(self, P.DIV, other, "float")

    def pow_(self, exponent):
        return inplace(self, P.pow, exponent)

    def zero_(self):
        return ops.zero_(self)

    def fill_(self, value):
        return ops.fill_(self, value)

    def copy_(self, src, non_blocking: bool = False):
        return ops.copy_(self, src)

    def clamp_(self, min=None, max=None):
        return P.clamp_(self, min, max)

    clip_ = clamp_

    def neg_(self):
        return inplace(self, P.neg)

    def abs_(self):
        return inplace(self, P.abs)

    def exp_(self):
        return inplace(self, P.exp)

    def log_(self):
        return inplace(self, P.log)

    def sqrt_(self):
        return inplace(self, P.sqrt)

    def sin_(self):
        return inplace(self, P.sin)

    def cos_(self):
        return inplace(self, P.cos)

    def tanh_(self):
        return inplace(self, P.tanh)

    def sigmoid_(self):
        return inplace(self, P.sigmoid)

    def relu_(self):
        return inplace(self, P.relu)

    def floor_(self):
        return inplace(self, P.floor)

    def ceil_(self):
        return inplace(self, P.ceil)

    def round_(self):
        return inplace(self, P.round)

    def trunc_(self):
        return inplace(self, P.trunc)

    def sign_(self):
        return inplace(self, P.sign)

    def sgn_(self):
        return inplace(self, P.sgn)

    def reciprocal_(self):
        return inplace(self, P.reciprocal)

    def remainder_(self, other):
        return P.promoted_inplace(self, P.remainder, other)

    def floor_divide_(self, other):
        return P.promoted_inplace(self, P.floor_divide, other)

    def fmod_(self, other):
        return P.promoted_inplace(self, P.fmod, other)

    # ---- math methods ---------------------------------------------------------------------
    def add(self, other, *, alpha=1):
        return P.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return P.sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other):
        out = binary(P.MUL, self, other)
        if out is NotImplemented:
            raise P.not_tensor("mul", "other", 2, other)
        return out

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        return P.div(self, other, rounding_mode=rounding_mode)

    divide = div
    true_divide = div

    def floor_divide(self, other):
        return P.floor_divide(self, other)

    def remainder(self, other):
        return P.remainder(self, other)

    def fmod(self, other):
        return P.fmod(self, other)

    def pow(self, exponent):
        return P.pow(self, exponent)

    def neg(self):
        return P.neg(self)

    negative = neg

    def abs(self):
        return P.abs(self)

    absolute = abs

    def sign(self):
        return P.sign(self)

    def sgn(self):
        return P.sgn(self)

    def exp(self):
        return P.exp(self)

    def log(self):
        return P.log(self)

    def log10(self):
        return P.log10(self)

    def log1p(self):
        return P.log1p(self)

    def sqrt(self):
        return P.sqrt(self)

    def reciprocal(self):
        return P.reciprocal(self)

    def sin(self):
        return P.sin(self)

    def cos(self):
        return P.cos(self)

    # A small float tensor runs float_unary's shortcut; the functions promote integers.
    tanh = float_unary(P.TANH, P.tanh)
    sigmoid = float_unary(P.SIGMOID, P.sigmoid)

    def relu(self):
        return P.relu(self)

    def trunc(self):
        return P.trunc(self)

    def floor(self):
        return P.floor(self)

    def ceil(self):
        return P.ceil(self)

    def round(self):
        return P.round(self)

    def clamp(self, min=None, max=None):
        return P.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        _check_other("maximum", other)
        return P.maximum(self, other)

    def minimum(self, other):
        _check_other("minimum", other)
        return P.minimum(self, other)

    def where(self, condition, other):
        return P.where(condition, self, other)

    def eq(self, other):
        return P.eq(self, other)

    def ne(self, other):
        return P.ne(self, other)

    def lt(self, other):
        return P.lt(self, other)

    def le(self, other):
        return P.le(self, other)

    def gt(self, other):
        return P.gt(self, other)

    def ge(self, other):
        return P.ge(self, other)

    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    def equal(self, other) -> bool:
        return bool(self.shape == other.shape and (self == other).all())

    def logical_and(self, other):
        _check_other("logical_and", other)
        return P.logical_and(self, other)

    def logical_or(self, other):
        _check_other("logical_or", other)
        return P.logical_or(self, other)

    def logical_xor(self, other):
        _check_other("logical_xor", other)
        return P.logical_xor(self, other)

    def bitwise_and(self, other):
        return P.bitwise_and(self, other)

    def bitwise_or(self, other):
        return P.bitwise_or(self, other)

    def bitwise_xor(self, other):
        return P.bitwise_xor(self, other)

    def bitwise_not(self):
        return P.bitwise_not(self)

    def logical_not(self):
        return P.logical_not(self)

    def isnan(self):
        return P.isnan(self)

    def isinf(self):
        return P.isinf(self)

    def isfinite(self):
        return P.isfinite(self)

    def all(self, dim=None, keepdim: bool = False):
        return ops.all(self, dim, keepdim)

    def any(self, dim=None, keepdim: bool = False):
        return ops.any(self, dim, keepdim)

    def nonzero(self, *, as_tuple: bool = False):
        idx = np.nonzero(self._data if self.ndim else self._data.reshape(1))
        if as_tuple:
            return tuple(Tensor._make(i.astype(np.int64)) for i in idx)
        return Tensor._make(np.stack(idx, axis=1).astype(np.int64))

    # ---- reductions -----------------------------------------------------------------------
    # ``_UNSET``: PyTorch tells an argument that was not given from one given as None.
    def sum(self, dim=_UNSET, keepdim=_UNSET, *, dtype=None):
        return ops.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=_UNSET, keepdim=_UNSET, *, dtype=None):
        return ops.mean(self, dim, keepdim, dtype=dtype)

    def prod(self, dim=_UNSET, keepdim=_UNSET, *, dtype=None):
        return ops.prod(self, dim, keepdim, dtype=dtype)

    def prod_dims(self, dims, keepdim: bool = False):
        return ops.reduction.prod_dims(self, dims, keepdim)

    def max(self, dim=_UNSET, keepdim=_UNSET, *, other=None):
        return ops.max(self, dim, keepdim, other=other)

    def min(self, dim=_UNSET, keepdim=_UNSET, *, other=None):
        return ops.min(self, dim, keepdim, other=other)

    def amax(self, dim=(), keepdim: bool = False):
        return ops.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim: bool = False):
        return ops.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim: bool = False):
        return ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim: bool = False):
        return ops.argmin(self, dim, keepdim)

    def logsumexp(self, *args, **kwargs):
        return ops.logsumexp(self, *args, **kwargs)

    def softmax(self, *args, **kwargs):
        return ops.softmax(self, *args, **kwargs)

    def log_softmax(self, *args, **kwargs):
        return ops.log_softmax(self, *args, **kwargs)

    def sum_to_size(self, *size):
        return ops.sum_to_size(self, *size)

    # ---- matrix products ------------------------------------------------------------------
    def matmul(self, other):
        return ops.matmul(self, other)

    def mm(self, mat2):
        return ops.mm(self, mat2)

    def bmm(self, mat2):
        return ops.bmm(self, mat2)

    def mv(self, vec):
        return ops.mv(self, vec)

    def dot(self, other):
        return ops.dot(self, other)

    # ---- shape and views ------------------------------------------------------------------
    def view(self, *shape):
        """A view with a new shape, or (given a dtype) of the same memory read as ``dtype``."""
        if len(shape) == 1 and isinstance(shape[0], dtype):
            return view_dtype(self, shape[0])
        return ops.view(self, *shape)

    def view_as(self, other):
        return ops.view(self, other.shape)

    def reshape(self, *shape):
        return ops.reshape(self, *shape)

    def reshape_as(self, other):
        return ops.reshape(self, other.shape)

    def transpose(self, dim0: int, dim1: int):
        return ops.transpose(self, dim0, dim1)

    swapaxes = transpose

    def permute(self, *dims):
        return ops.permute(self, *dims)

    def t(self):
        return ops.t(self)

    @property
    def T(self):
        """All dims reversed (PyTorch deprecates this for tensors of other than 2 dims)."""
        if self.ndim != 2:
            _warn_T_once(self.ndim)
        return ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        if self.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of "
                               f"matrices. Got {self.ndim}-D tensor.")
        return ops.transpose(self, -2, -1)

    def squeeze(self, dim=None):
        return ops.squeeze(self, dim)

    def unsqueeze(self, dim: int):
        return ops.unsqueeze(self, dim)

    def expand(self, *sizes):
        return ops.expand(self, *sizes)

    def expand_as(self, other):
        return ops.expand(self, other.shape)

    def narrow(self, dim: int, start: int, length: int):
        return ops.narrow(self, dim, start, length)

    def select(self, dim: int, index: int):
        return ops.select(self, dim, index)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        return ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes):
        return ops.unflatten(self, dim, sizes)

    def unbind(self, dim: int = 0):
        return ops.shape.unbind(self, dim)

    def split(self, split_size, dim: int = 0):
        return ops.shape.split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0):
        return ops.shape.chunk(self, chunks, dim)

    def movedim(self, source, destination):
        return ops.shape.movedim(self, source, destination)

    moveaxis = movedim

    def flip(self, *dims):
        """A copy with the order of the elements reversed along ``dims``."""
        if not dims:
            raise TypeError('flip() missing 1 required positional arguments: "dims"')
        return ops.flip(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int)
                        else dims)

    def ravel(self):
        """All elements as one dim: a view of ``contiguous()``, as in PyTorch."""
        return ops.view(ops.contiguous(self), -1)


def _tangent_repr(t) -> str | None:
    from .autograd.forward_grad import tangent_of
    tangent = tangent_of(t)
    return None if tangent is None else f"{tangent}"  # a 0-d one as its number, as torch


def _to_device(t, dev):
    out = Tensor._make(to_device(t._data, dev))
    if t._rg and GradMode.enabled:
        record(_TO_DEVICE, (t,), (out,), {"device": t.device})
    if AfterOp.on:
        after_op(_TO_DEVICE, (t,), (out,), {"device": t.device})
    return out


_TO_DEVICE = ops.defop("_to_copy", forward=lambda x, device: x,
                       derivatives={"self": lambda grad, device: grad.to(device)})


_dt = sys.modules[__name__.rpartition('.')[0] + '.dtype']

_TYPE_NAMES = {name: f"{scalar}Tensor" for name, scalar in _dt.SCALAR_TYPE_NAMES.items()}
_TYPE_BY_NAME = {f"ember.{v}": getattr(_dt, k if k != "bool" else "bool_")
                 for k, v in _TYPE_NAMES.items()}


_T_WARNED = set()


def _warn_T_once(ndim: int) -> None:
    """PyTorch's deprecation warnings for ``x.T`` on other than 2 dims, once per process."""
    kind = "0-d" if ndim == 0 else "n-d"
    if kind in _T_WARNED:
        return
    _T_WARNED.add(kind)
    if ndim == 0:
        msg = "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases."
    else:
        msg = ("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
               "deprecated and it will throw an error in a future release. Consider `x.mT` to "
               "transpose batches of matrices or `x.permute(*ember.arange(x.ndim - 1, -1, -1))` "
               "to reverse the dimensions of a tensor.")
    import warnings
    warnings.warn(msg, UserWarning, stacklevel=3)


def _dim_of(t, name: str, dim) -> int:
    """``dim`` of ``size(dim)``/``stride(dim)`` as a non-negative index, with PyTorch's
    errors (a 0-d tensor has no dim to ask about)."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        if not isinstance(dim, np.integer):
            raise TypeError(f"{name}(): argument 'dim' (position 1) must be int, not "
                            f"{type(dim).__name__}")
        dim = int(dim)
    if not t._data.ndim:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return ops.dims.normalize_dim(dim, t._data.ndim)


def _check_other(name: str, other) -> None:
    """The method form of ops that take only tensors names ``other`` as argument 1."""
    if not isinstance(other, Tensor):
        raise P.not_tensor(name, "other", 1, other)


def _type_name(t) -> str:
    prefix = "ember." if not t.is_cuda else "ember.cuda."
    return prefix + _TYPE_NAMES[t.dtype.name]


def _rebuild(array, requires_grad, dev=None):
    array = np.array(array)
    if dev is not None:
        array = to_device(array, device(dev))
    return Tensor._make(array, requires_grad)


Bound.Tensor = Tensor
Bound.new = Tensor._make
_PLAIN_MAKE = Tensor._make


def _make_inference(data, requires_grad: bool = False) -> Tensor:
    """``Tensor._make`` while inference mode is on: an inference tensor."""
    t = _PLAIN_MAKE(data, requires_grad)
    t._vc = INFERENCE_VERSION
    return t


def _switch_constructor(inference: bool) -> None:
    make = _make_inference if inference else _PLAIN_MAKE
    Tensor._make = staticmethod(make)
    Bound.new = make


INFERENCE_SWITCHES.append(_switch_constructor)

__all__ = ["Tensor", "get_default_dtype"]
