"""ember._tensor_str against torch's repr(tensor) as the oracle."""

import math

import pytest
import torch

import ember
from ember._tensor_str import format_tensor, get_printoptions, printoptions, set_printoptions

nan, inf = math.nan, math.inf


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _ember_repr(t: torch.Tensor, device: str | None = None) -> str:
    """Format a torch tensor through ember's printer."""
    data = t.detach()
    array = data.float().numpy() if data.dtype == torch.bfloat16 else data.numpy()
    return format_tensor(
        array,
        dtype_name=_name(t.dtype),
        default_dtype_name=_name(torch.get_default_dtype()),
        device=device,
        grad_fn_name=None if t.grad_fn is None else type(t.grad_fn).__name__,
        requires_grad=t.requires_grad,
    )


def _torch_repr(t: torch.Tensor) -> str:
    return repr(t).replace("torch.", "ember.")


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(*shape, seed=0, scale=1.0, dtype=torch.float32):
    return (torch.randn(*shape, generator=_gen(seed), dtype=torch.float64) * scale).to(dtype)


def _randint(low, high, *shape, seed=0, dtype=torch.int64):
    return torch.randint(low, high, shape, generator=_gen(seed), dtype=dtype)


def _leaf(t):
    return t.clone().requires_grad_(True)


# name -> zero-argument builder; built lazily so collection stays cheap.
CASES = {
    # plain floats
    "f_basic": lambda: torch.tensor([1.0, 2.0]),
    "f_int_valued": lambda: torch.tensor([36.0, 81.0]),
    "f_int_valued_neg": lambda: torch.tensor([-12.0, -8.0]),
    "f_int_valued_mixed": lambda: torch.tensor([-120.0, 3.0, 45.0, 0.0]),
    "f_fraction": lambda: torch.tensor([0.1, 0.25, -3.5]),
    "f_sci_ratio": lambda: torch.tensor([2.048e2, 2.048e3, 2.048e-1]),
    "f_sci_small": lambda: torch.tensor([1e-5, 1.0]),
    "f_sci_small_only": lambda: torch.tensor([3e-5, 5e-5]),
    "f_sci_big": lambda: torch.tensor([1e9, 2e9]),
    "f_sci_int_big": lambda: torch.tensor([1.5e8, 3.0]),
    "f_border_1e8": lambda: torch.tensor([1e8, 2e7]),
    "f_border_1e-4": lambda: torch.tensor([1e-4, 2e-4]),
    "f_ratio_1000": lambda: torch.tensor([1.0, 1000.0]),
    "f_ratio_1001": lambda: torch.tensor([1.0, 1001.0]),
    "f_round_up": lambda: torch.tensor([9.99996, 99.99999, -0.5]),
    "f_zeros": lambda: torch.zeros(4),
    "f_neg_zero": lambda: torch.tensor([-0.0, 1.0]),
    "f_neg_zero_only": lambda: torch.tensor([-0.0, 0.0]),
    "f_neg_zero_frac": lambda: torch.tensor([-0.0, 1.5]),
    "f_nan": lambda: torch.tensor([nan, 1.0]),
    "f_nonfinite": lambda: torch.tensor([inf, -inf, nan]),
    "f_inf_frac": lambda: torch.tensor([inf, 1.5, -2.25]),
    "f_inf_sci": lambda: torch.tensor([inf, 1e-7, nan, -3e5]),
    "f_big_int_fixed": lambda: torch.tensor([12345678.0, -1.0]),
    "f_ones_2d": lambda: torch.ones(2, 3),
    "f_randn_1d": lambda: _randn(5),
    "f_randn_2d": lambda: _randn(4, 5, seed=1),
    "f_randn_3d": lambda: _randn(2, 3, 4, seed=2),
    "f_randn_4d": lambda: _randn(2, 2, 2, 3, seed=3),
    "f_randn_5d": lambda: _randn(1, 2, 1, 2, 2, seed=4),
    "f_single": lambda: _randn(1, 1, seed=5),
    "f_wrap_1d": lambda: _randn(40, seed=6),
    "f_wrap_2d": lambda: _randn(3, 25, seed=7),
    "f_wrap_3d": lambda: _randn(2, 2, 30, seed=8),
    "f_wrap_sci": lambda: _randn(30, seed=9, scale=1e6),
    "f_arange_float": lambda: torch.arange(-20.0, 20.0, 0.5),
    "f_linspace": lambda: torch.linspace(0, 1, 17),
    # magnitudes
    **{
        f"f_scale_{scale:g}": (lambda s=scale: _randn(3, 4, seed=10, scale=s))
        for scale in (1e-5, 1e-3, 1e-1, 1.0, 1e2, 1e4, 1e6, 1e8)
    },
    "f_mixed_magnitudes": lambda: torch.tensor([1e-5, 3.0, 2e5, -7e7]),
    "f_rand_int_valued": lambda: _randint(-1000, 1000, 6, 5, seed=11).float(),
    "f_rand_int_valued_sci": lambda: _randint(-(10**6), 10**6, 8, seed=12).float() * 1000,
    # other float dtypes
    "f64_basic": lambda: torch.tensor([1.0, 2.5], dtype=torch.float64),
    "f64_randn": lambda: _randn(3, 4, seed=13, dtype=torch.float64),
    "f64_tiny": lambda: torch.tensor([1e-300, 1.0], dtype=torch.float64),
    "f64_huge": lambda: torch.tensor([1e300, -1e-300], dtype=torch.float64),
    "f64_int_valued": lambda: torch.tensor([3.0, -4.0], dtype=torch.float64),
    "f16_basic": lambda: torch.tensor([1.0, 2.5, -0.333], dtype=torch.float16),
    "f16_randn": lambda: _randn(3, 4, seed=14, dtype=torch.float16),
    "f16_extremes": lambda: torch.tensor([65504.0, 6e-8, -1.0], dtype=torch.float16),
    "bf16_basic": lambda: torch.tensor([1.0, 2.5, -0.3], dtype=torch.bfloat16),
    "bf16_randn": lambda: _randn(2, 5, seed=15, dtype=torch.bfloat16),
    # complex
    "c64_basic": lambda: torch.tensor([1 + 2j, -3.5 - 0.5j]),
    "c64_randn": lambda: _randn(3, 2, seed=16).to(torch.complex64) * (1 - 2j),
    "c64_nonfinite": lambda: torch.tensor([complex(nan, 1), complex(1, inf), -0.0j]),
    "c64_sci": lambda: torch.tensor([1e-6 + 1j, 1e4 - 1e-3j]),
    "c128_basic": lambda: torch.tensor([1 + 1j, 0.5j], dtype=torch.complex128),
    "c64_scalar": lambda: torch.tensor(3 - 4j),
    # 0-d
    "s_float": lambda: torch.tensor(4.1717),
    "s_int_valued": lambda: torch.tensor(12.0),
    "s_nan": lambda: torch.tensor(nan),
    "s_neg_inf": lambda: torch.tensor(-inf),
    "s_neg_zero": lambda: torch.tensor(-0.0),
    "s_tiny": lambda: torch.tensor(1e-8),
    "s_huge": lambda: torch.tensor(3e12),
    "s_int": lambda: torch.tensor(5),
    "s_int32": lambda: torch.tensor(-7, dtype=torch.int32),
    "s_bool": lambda: torch.tensor(True),
    "s_f64": lambda: torch.tensor(2.5, dtype=torch.float64),
    "s_f16": lambda: torch.tensor(0.1, dtype=torch.float16),
    # ints and bools
    "i_arange": lambda: torch.arange(10),
    "i_neg": lambda: torch.tensor([-5, 10, -100]),
    "i_large": lambda: torch.tensor([2**62, -(2**63), 0]),
    "i_rand_2d": lambda: _randint(-(10**6), 10**6, 5, 7, seed=17),
    "i_rand_3d": lambda: _randint(0, 10, 2, 3, 4, seed=18),
    "i_wrap": lambda: torch.arange(100, dtype=torch.int32) * 1000,
    "i32": lambda: torch.tensor([1, 2], dtype=torch.int32),
    "i16": lambda: torch.tensor([-300, 2], dtype=torch.int16),
    "i8": lambda: torch.tensor([-128, 127], dtype=torch.int8),
    "u8": lambda: torch.tensor([0, 255, 7], dtype=torch.uint8),
    "u8_2d": lambda: _randint(0, 256, 3, 4, seed=19, dtype=torch.uint8),
    "b_true": lambda: torch.tensor([True, True]),
    "b_mixed": lambda: torch.tensor([True, False]),
    "b_2d": lambda: _randint(0, 2, 4, 5, seed=20).bool(),
    "b_wrap": lambda: _randint(0, 2, 30, seed=21).bool(),
    # empty
    "e_float": lambda: torch.tensor([]),
    "e_0x3": lambda: torch.zeros(0, 3),
    "e_2x0": lambda: torch.zeros(2, 0),
    "e_3x0x2_f64": lambda: torch.zeros(3, 0, 2, dtype=torch.float64),
    "e_int32": lambda: torch.zeros(0, dtype=torch.int32),
    "e_int64": lambda: torch.zeros(0, dtype=torch.int64),
    "e_int64_2d": lambda: torch.zeros(0, 4, dtype=torch.int64),
    "e_bool": lambda: torch.zeros(0, dtype=torch.bool),
    "e_f16": lambda: torch.zeros(0, dtype=torch.float16),
    "e_c64": lambda: torch.zeros(0, dtype=torch.complex64),
    "e_requires_grad": lambda: torch.zeros(0, 2, requires_grad=True),
    # summarised
    "sum_1d": lambda: _randn(2000, seed=22),
    "sum_1d_just_over": lambda: _randn(1001, seed=23),
    "sum_1d_int": lambda: torch.arange(5000),
    "sum_2d": lambda: _randn(100, 100, seed=24),
    "sum_2d_narrow": lambda: _randn(500, 4, seed=25),
    "sum_2d_wide": lambda: _randn(4, 500, seed=26),
    "sum_3d": lambda: _randn(20, 30, 40, seed=27),
    "sum_4d": lambda: _randn(5, 6, 7, 8, seed=28),
    "sum_big_2d": lambda: torch.arange(1_000_000, dtype=torch.float32).reshape(1000, 1000),
    "sum_sci_hidden": lambda: torch.cat([torch.ones(500), torch.full((600,), 1e-9), torch.ones(3)]),
    "sum_bool": lambda: _randint(0, 2, 40, 40, seed=29).bool(),
    "sum_f64": lambda: _randn(50, 50, seed=30, dtype=torch.float64),
    "sum_c64": lambda: _randn(1200, seed=31).to(torch.complex64),
    # autograd
    "g_leaf": lambda: _leaf(_randn(3, seed=32)),
    "g_leaf_2d": lambda: _leaf(_randn(3, 4, seed=33)),
    "g_leaf_f64": lambda: _leaf(_randn(3, seed=34, dtype=torch.float64)),
    "g_mul": lambda: _leaf(_randn(3, seed=35)) * 2,
    "g_mean": lambda: (_leaf(_randn(4, 4, seed=36)) ** 2).mean(),
    "g_sum": lambda: _leaf(torch.tensor([3.0, 4.0, 5.0])).sum(),
    "g_wrap": lambda: _leaf(_randn(30, seed=37)).exp(),
    "g_2d_long_last_line": lambda: _leaf(_randn(2, 8, seed=38, dtype=torch.float64)) + 1,
    "g_f64_sci": lambda: _leaf(_randn(6, seed=39, scale=1e9, dtype=torch.float64)) * 3,
    "g_summarised": lambda: _leaf(_randn(40, 40, seed=40)).relu(),
    # suffix placement near the line width
    **{
        f"suffix_len_{n}": (lambda n=n: torch.arange(n, dtype=torch.float64) + 0.5)
        for n in range(6, 13)
    },
    **{
        f"suffix_int32_len_{n}": (lambda n=n: torch.arange(n, dtype=torch.int32) * 10)
        for n in (17, 18, 19, 20)
    },
}


@pytest.fixture(autouse=True)
def _restore_printoptions():
    yield
    torch.set_printoptions(profile="default")
    set_printoptions(profile="default")


@pytest.mark.parametrize("name", sorted(CASES))
def test_repr_matches_torch(name):
    t = CASES[name]()
    assert _ember_repr(t) == _torch_repr(t)


OPTION_SETS = [
    {"precision": 2},
    {"precision": 0},
    {"precision": 8},
    {"threshold": 5},
    {"threshold": 5, "edgeitems": 1},
    {"edgeitems": 0, "threshold": 10},
    {"edgeitems": 0},
    {"linewidth": 40},
    {"linewidth": 120},
    {"linewidth": 10},
    {"sci_mode": True},
    {"sci_mode": False},
    {"sci_mode": True, "precision": 2},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "short", "precision": 6, "linewidth": 60},
]

OPTION_CASES = [
    "f_basic",
    "f_int_valued_neg",
    "f_sci_ratio",
    "f_nonfinite",
    "f_randn_2d",
    "f_randn_3d",
    "f_wrap_1d",
    "f_scale_1e-05",
    "f_scale_1e+06",
    "f_mixed_magnitudes",
    "f16_randn",
    "c64_randn",
    "s_float",
    "s_int_valued",
    "i_wrap",
    "i_rand_2d",
    "b_2d",
    "e_0x3",
    "e_int32",
    "sum_1d",
    "sum_2d_wide",
    "sum_3d",
    "g_leaf_f64",
    "g_mean",
    "suffix_len_9",
]


@pytest.mark.parametrize(
    "options", OPTION_SETS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items())
)
def test_printoptions_match_torch(options):
    torch.set_printoptions(**options)
    set_printoptions(**options)
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    for name in OPTION_CASES:
        t = CASES[name]()
        assert _ember_repr(t) == _torch_repr(t), name


@pytest.mark.parametrize(
    "name",
    ["f_basic", "f64_basic", "e_float", "e_f16", "c64_basic", "c128_basic", "g_leaf", "s_f64"],
)
def test_default_dtype_float64(name):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        t = CASES[name]()
        t32 = t.float() if t.is_floating_point() else t
        for tensor in (t, t32):
            assert _ember_repr(tensor) == _torch_repr(tensor)
    finally:
        torch.set_default_dtype(previous)


def _torch_repr_on_device(t: torch.Tensor, device: str) -> str:
    """What torch prints for ``t`` on ``device`` (built from torch's own helpers)."""
    ts = torch._tensor_str
    suffixes = [f"device='{device}'"]
    if t.numel() == 0:
        if t.dim() != 1:
            suffixes.append(f"size={tuple(t.shape)}")
        if t.dtype != torch.get_default_dtype():
            suffixes.append(f"dtype={t.dtype}")
        body = "[]"
    else:
        if t.dtype not in (torch.get_default_dtype(), torch.complex64, torch.int64, torch.bool):
            suffixes.append(f"dtype={t.dtype}")
        body = ts._tensor_str(t.detach(), 7)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return ts._add_suffixes("tensor(" + body, suffixes, 7, False).replace("torch.", "ember.")


@pytest.mark.parametrize(
    "name",
    ["f_basic", "f64_basic", "f_wrap_2d", "i32", "e_0x3", "g_mul", "suffix_len_8", "s_float"],
)
def test_device_suffix(name):
    t = CASES[name]()
    assert _ember_repr(t, device="cuda:0") == _torch_repr_on_device(t, "cuda:0")
    assert _ember_repr(t, device="cpu") == _torch_repr(t)


def test_grad_fn_takes_precedence_over_requires_grad():
    text = format_tensor(
        torch.ones(2).numpy(),
        dtype_name="float32",
        default_dtype_name="float32",
        grad_fn_name="MulBackward0",
        requires_grad=True,
    )
    assert text == "tensor([1., 1.], grad_fn=<MulBackward0>)"


def test_printoptions_context_manager_restores():
    before = get_printoptions()
    with printoptions(precision=1, threshold=3):
        assert get_printoptions()["precision"] == 1
        t = torch.tensor([1.25, 2.5, 3.75, 5.0])
        with torch._tensor_str.printoptions(precision=1, threshold=3):
            assert _ember_repr(t) == _torch_repr(t)
    assert get_printoptions() == before


def test_get_printoptions_defaults():
    assert get_printoptions() == {
        "precision": 4,
        "threshold": 1000,
        "edgeitems": 3,
        "linewidth": 80,
        "sci_mode": None,
    }


# ---- ember tensors, printed through Tensor.__repr__/__str__/__format__ -----------------------

def _both(build):
    """``build(lib)`` run on ember and on torch, as text (or the exception raised)."""
    out = []
    for lib in (ember, torch):
        try:
            out.append(build(lib))
        except Exception as exc:  # noqa: BLE001 - the error is what is compared
            out.append((type(exc).__name__, str(exc).replace("torch.", "ember.")))
    e, t = out
    return e, t.replace("torch.", "ember.") if isinstance(t, str) else t


def _param_subclass(lib):
    class MyParameter(lib.nn.Parameter):
        pass

    return MyParameter


def _own_repr(lib):
    class Named(lib.nn.Parameter):
        def __repr__(self):
            return "Named()"

    return Named(lib.ones(1))


TENSOR_TEXT = {
    "dtypes": lambda m: "\n".join(
        repr((m.arange(12).reshape(3, 4) - 5).to(getattr(m, d)))
        for d in ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                  "bool")),
    "empty_shapes": lambda m: "\n".join(
        repr(m.zeros(s, dtype=d)) for s in ((0,), (2, 0), (0, 3, 4))
        for d in (m.float32, m.float64, m.int64, m.bool)),
    "special_values": lambda m: repr(m.tensor([math.nan, math.inf, -math.inf, -0.0, 2.0])),
    "summarised_4d": lambda m: repr(m.arange(5 * 6 * 7 * 8.0).reshape(5, 6, 7, 8) / 3),
    "transpose": lambda m: repr(m.arange(24.0).reshape(2, 3, 4).transpose(0, 2)),
    "strided_slice": lambda m: repr(m.arange(30).reshape(5, 6)[::2, 1::3]),
    "reversed_rows": lambda m: repr(m.arange(12.0).reshape(3, 4)[[2, 1, 0]]),
    "expanded": lambda m: repr(m.arange(3.0).expand(4, 3)),
    "leaf": lambda m: repr(m.tensor([1.5, 2.0], requires_grad=True)),
    "grad_fn": lambda m: repr((m.tensor([1.5, 2.0], requires_grad=True) * 2).sum()),
    "parameter": lambda m: repr(m.nn.Parameter(m.arange(4.0).reshape(2, 2))),
    "parameter_str": lambda m: str(m.nn.Parameter(m.arange(4.0).reshape(2, 2))),
    "parameter_frozen": lambda m: str(m.nn.Parameter(m.ones(2), requires_grad=False)),
    "parameter_subclass": lambda m: repr(_param_subclass(m)(m.ones(2))),
    "parameter_subclass_str": lambda m: str(_param_subclass(m)(m.ones(2, 2))),
    "str_uses_subclass_repr": lambda m: f"{_own_repr(m)!s} {_own_repr(m)}",
    "tensor_contents": lambda m: m.ones(2, requires_grad=True).__repr__(tensor_contents="[X]"),
    "tensor_contents_empty": lambda m: m.zeros(0, 2).__repr__(tensor_contents="..."),
    "parameter_rejects_contents": lambda m: m.nn.Parameter(m.ones(1)).__repr__(
        tensor_contents="x"),
    "format_0d": lambda m: f"{m.tensor(3.14159):.3f}|{m.tensor(7):>4}|{m.tensor(True)}",
    "format_0d_requires_grad": lambda m: f"{m.tensor(2.5, requires_grad=True):.2e}",
    "format_nd_plain": lambda m: f"{m.tensor([1.0, 2.0])}",
    "format_nd_spec": lambda m: f"{m.tensor([1.0, 2.0]):.3f}",
    "format_0d_parameter": lambda m: f"{m.nn.Parameter(m.tensor(1.5)):.2f}",
    "format_0d_parameter_plain": lambda m: f"{m.nn.Parameter(m.tensor(1.5))}",
    "size": lambda m: f"{m.Size([2, 3])} {m.Size([])} {m.zeros(4).shape!r}",
    "device": lambda m: f"{m.device('cpu')} {m.device('cuda', 1)!r} {m.zeros(1).device!r}",
    "dtype": lambda m: " ".join(str(getattr(m, d)) for d in ("float16", "int8", "uint8", "bool")),
}


@pytest.mark.parametrize("name", sorted(TENSOR_TEXT))
def test_ember_tensor_text_matches_torch(name):
    e, t = _both(TENSOR_TEXT[name])
    assert e == t


def test_ember_tensor_repr_after_default_dtype_float64():
    def build(lib):
        lib.set_default_dtype(lib.float64)
        try:
            return "\n".join(repr(x) for x in (
                lib.tensor([1.5, 2.0]), lib.tensor([1.5], dtype=lib.float32), lib.zeros(0),
                lib.zeros(0, dtype=lib.float32), lib.tensor(2.0, requires_grad=True),
                lib.arange(3)))
        finally:
            lib.set_default_dtype(lib.float32)

    e, t = _both(build)
    assert e == t


@pytest.mark.parametrize("profile", ["default", "short", "full"])
def test_ember_set_printoptions_profiles_and_restore(profile):
    def build(lib):
        x = lib.arange(2400.0).reshape(2, 3, 400) / 7
        lib.set_printoptions(precision=1, linewidth=50, edgeitems=1, sci_mode=True)
        changed = repr(x)
        lib.set_printoptions(profile=profile)
        texts = [changed, repr(x), str(lib._tensor_str.get_printoptions())]
        lib.set_printoptions(profile="default")
        return "\n".join([*texts, repr(x)])

    e, t = _both(build)
    assert e == t
