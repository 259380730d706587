"""ember's dtypes and PyTorch's type-promotion rules."""

from __future__ import annotations

import builtins

import numpy as np

__all__ = [
    "dtype", "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
    "bool_", "get_default_dtype", "set_default_dtype", "promote_types", "result_type",
    "can_cast",
]

# Category ranks: PyTorch promotes across categories bool < integer < floating.
_BOOL, _INT, _FLOAT = 0, 1, 2


class dtype:
    """The data type of a tensor (``ember.float32``, ``ember.int64``, ...)."""

    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_signed", "is_complex",
                 "_category")

    def __init__(self, name: str, np_dtype, category: int) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == _FLOAT
        self.is_complex = False
        self.is_signed = self.np.kind in "if"
        self._category = category

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self) -> dtype:
        return self

    @property
    def bits(self) -> int:
        return self.itemsize * 8


float16 = dtype("float16", np.float16, _FLOAT)
float32 = dtype("float32", np.float32, _FLOAT)
float64 = dtype("float64", np.float64, _FLOAT)
int8 = dtype("int8", np.int8, _INT)
int16 = dtype("int16", np.int16, _INT)
int32 = dtype("int32", np.int32, _INT)
int64 = dtype("int64", np.int64, _INT)
uint8 = dtype("uint8", np.uint8, _INT)
bool_ = dtype("bool", np.bool_, _BOOL)

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

ALL_DTYPES = (float16, float32, float64, int8, int16, int32, int64, uint8, bool_)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
# numpy dtype -> ember dtype; numpy's builtin dtypes are singletons, so this is a cheap lookup.
FROM_NUMPY = {d.np: d for d in ALL_DTYPES}

# How PyTorch's messages name a dtype (by ``dtype.name``): its ScalarType ("expected scalar
# type Float", "not implemented for 'Long'"), its C++ type ("Input type (float) and bias
# type (double)") and, in overflow errors, its fixed-width C type ("value cannot be
# converted to type int64_t without overflow").
SCALAR_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char",
                     "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte",
                     "bool": "Bool"}
CPP_TYPE_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double",
                  "int8": "signed char", "int16": "short int", "int32": "int",
                  "int64": "long int", "uint8": "unsigned char", "bool": "bool"}
OVERFLOW_TYPE_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double",
                       "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
                       "uint8": "uint8_t", "bool": "bool"}


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype) -> dtype:
    """The ember dtype of a numpy dtype; TypeError for ones ember does not support."""
    try:
        return FROM_NUMPY[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np.dtype(np_dtype).name}. The only "
            "supported types are: float64, float32, float16, int64, int32, int16, int8, "
            "uint8, and bool (ember has no uint16, uint32, uint64 or complex dtypes)."
        ) from None


class _Default:
    dtype = float32


def get_default_dtype() -> dtype:
    """The default floating point dtype (initially ``ember.float32``)."""
    return _Default.dtype


def set_default_dtype(d: dtype) -> None:
    """Set the default floating point dtype: the dtype of Python floats turned into tensors."""
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _Default.dtype = d


def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a._category != b._category:
        return a if a._category > b._category else b
    return FROM_NUMPY[np.promote_types(a.np, b.np)]


_PROMOTE = {(a, b): _promote_pair(a, b) for a in ALL_DTYPES for b in ALL_DTYPES}


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """The smallest dtype both ``type1`` and ``type2`` can be cast to, by PyTorch's table."""
    return _PROMOTE[(type1, type2)]


def _combine_categories(higher: dtype | None, lower: dtype | None) -> dtype | None:
    # A higher-priority operand keeps its dtype unless a lower one is of a higher category.
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return _PROMOTE[(higher, lower)]
    return higher


def scalar_dtype(value) -> dtype:
    """The dtype PyTorch gives a Python scalar that takes part in an operation."""
    # ``int`` and ``float`` are dtypes in this module (``ember.int``, ``ember.float``).
    if isinstance(value, (builtins.bool, np.bool_)):
        return bool_
    if isinstance(value, (builtins.int, np.integer)):
        return int64
    if isinstance(value, (builtins.float, np.floating)):
        return _Default.dtype
    raise TypeError(f"result_type() received an invalid combination of arguments - got "
                    f"({type(value).__name__})")


def result_type(*operands) -> dtype:
    """PyTorch's result dtype for an op over tensors and Python scalars.

    Dimensioned tensors take priority over 0-d tensors, which take priority over Python
    scalars; a lower-priority operand only matters when it is of a higher category.
    """
    dim = zero = wrapped = None
    for x in operands:
        d = getattr(x, "dtype", None)
        if isinstance(d, dtype):
            if x.ndim:
                dim = d if dim is None else _PROMOTE[(dim, d)]
            else:
                zero = d if zero is None else _PROMOTE[(zero, d)]
        else:
            d = scalar_dtype(x)
            wrapped = d if wrapped is None else _PROMOTE[(wrapped, d)]
    return _combine_categories(dim, _combine_categories(zero, wrapped))


def can_cast(from_: dtype, to: dtype) -> bool:
    """Whether PyTorch's casting rules allow an in-place result of ``from_`` into ``to``."""
    return from_._category <= to._category
