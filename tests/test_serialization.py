"""ember.save / ember.load against torch.save / torch.load (torch 2.13 is the oracle)."""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from ember.serialization import _zip

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


class Custom:
    """A class no weights-only unpickler knows."""

    def __init__(self, value=1):
        self.value = value


def torch_bytes(obj) -> io.BytesIO:
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return buf


def ember_bytes(obj) -> io.BytesIO:
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    return buf


def sample(dtype: str, shape=(2, 3)) -> np.ndarray:
    values = np.arange(int(np.prod(shape))).reshape(shape) - 2
    return values.astype(np.dtype(dtype) if dtype != "bool" else np.bool_)


def assert_same(e, t):
    """An ember tensor equals a torch tensor: dtype, shape, stride, offset and values."""
    assert isinstance(e, ember.Tensor)
    assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]
    assert tuple(e.shape) == tuple(t.shape)
    assert e.requires_grad == t.requires_grad
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())


# ---- torch.save -> ember.load ----------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_to_ember_dtypes(dtype):
    t = torch.from_numpy(sample(dtype))
    sd = {"x": t, "scalar": t[1, 2].clone(), "empty": t[:0], "row": t[1]}
    out = ember.load(torch_bytes(sd))
    for k in sd:
        assert_same(out[k], sd[k])
    assert out["x"].dtype is getattr(ember, dtype)


def test_torch_to_ember_views_share_one_storage():
    base = torch.arange(24.0).reshape(4, 6)
    sd = OrderedDict(base=base, t=base.t(), row=base[2], cols=base[:, 1:4], step=base[::2, ::3],
                     zero_d=base[3, 5])
    out = ember.load(torch_bytes(sd))
    assert type(out) is OrderedDict and list(out) == list(sd)
    for k in sd:
        assert_same(out[k], sd[k])
        assert out[k].stride() == sd[k].stride()
    # every view points into the storage of `base` (read once), at torch's offsets
    start = out["base"].data_ptr()
    for k in sd:
        assert out[k].data_ptr() - start == sd[k].storage_offset() * 4
    with ember.no_grad():
        out["base"].add_(100)
    assert out["row"].tolist() == (base[2] + 100).tolist()
    assert out["zero_d"].item() == 123.0


def test_torch_to_ember_parameters_and_requires_grad():
    sd = {"p": torch.nn.Parameter(torch.randn(3)),
          "frozen": torch.nn.Parameter(torch.randn(2), requires_grad=False),
          "int_param": torch.nn.Parameter(torch.arange(3), requires_grad=False),
          "leaf": torch.ones(2, requires_grad=True), "plain": torch.ones(2)}
    out = ember.load(torch_bytes(sd))
    assert type(out["p"]) is ember.nn.Parameter and out["p"].requires_grad
    assert type(out["frozen"]) is ember.nn.Parameter and not out["frozen"].requires_grad
    assert type(out["int_param"]) is ember.nn.Parameter
    assert type(out["leaf"]) is ember.Tensor and out["leaf"].requires_grad
    assert out["leaf"].is_leaf
    for k in sd:
        assert_same(out[k], sd[k])


def test_torch_to_ember_nested_containers_and_python_values():
    t = torch.arange(4)
    obj = {"list": [t, 1, 2.5, "s", None, True], "tuple": (t, (t[1:],)), "bytes": b"\x00ab",
           "set": {1, 2}, "complex": 1 + 2j, "od": OrderedDict(b=1, a=t), "int": 2 ** 70,
           "dtype": torch.float16, "device": torch.device("cpu"), "size": torch.Size([2, 3]),
           "cuda_dev": torch.device("cuda", 1)}
    out = ember.load(torch_bytes(obj))
    assert out["list"][1:] == [1, 2.5, "s", None, True]
    assert_same(out["list"][0], t)
    assert out["tuple"][0] is out["list"][0]  # the same tensor object stays one object
    assert_same(out["tuple"][1][0], t[1:])
    assert out["bytes"] == b"\x00ab" and out["set"] == {1, 2} and out["complex"] == 1 + 2j
    assert type(out["od"]) is OrderedDict and list(out["od"]) == ["b", "a"]
    assert out["int"] == 2 ** 70
    assert out["dtype"] is ember.float16
    assert out["device"] == ember.device("cpu") and out["cuda_dev"] == ember.device("cuda:1")
    assert isinstance(out["size"], ember.Size) and out["size"] == (2, 3)


def test_torch_to_ember_bare_tensor_and_noncontiguous():
    t = torch.arange(60, dtype=torch.float64).reshape(3, 4, 5).permute(2, 0, 1)[1:, :, ::2]
    out = ember.load(torch_bytes(t))
    assert_same(out, t)
    assert out.stride() == t.stride()


# ---- ember.save -> torch.load -----------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_ember_to_torch_dtypes(dtype):
    e = ember.from_numpy(sample(dtype))
    sd = {"x": e, "scalar": e[1, 2], "empty": e[:0], "row": e[1]}
    out = torch.load(ember_bytes(sd))  # torch's default weights_only=True
    for k in sd:
        assert_same(sd[k], out[k])


def test_ember_to_torch_views_share_one_storage():
    base = ember.arange(24.0).reshape(4, 6)
    sd = OrderedDict(base=base, t=base.t(), row=base[2], cols=base[:, 1:4],
                     step=base[::2, ::3], zero_d=base[3, 5])
    out = torch.load(ember_bytes(sd))
    assert type(out) is OrderedDict and list(out) == list(sd)
    ptr = out["base"].untyped_storage().data_ptr()
    for k in sd:
        assert_same(sd[k], out[k])
        assert out[k].stride() == sd[k].stride()
        assert out[k].untyped_storage().data_ptr() == ptr
        assert out[k].storage_offset() * 4 == sd[k].data_ptr() - base.data_ptr()
    assert len([n for n in zipfile.ZipFile(ember_bytes(sd)).namelist() if "/data/" in n]) == 1


def test_ember_to_torch_parameters_nested_and_values():
    p = ember.nn.Parameter(ember.randn(3))
    frozen = ember.nn.Parameter(ember.randn(2), requires_grad=False)
    t = ember.arange(4)
    obj = {"p": p, "frozen": frozen, "again": p, "nested": [t, (t, {"k": t[1:]})],
           "values": [1, 2.5, "s", None, True, b"by", 2 ** 70, 1 + 2j], "set": {3},
           "od": OrderedDict(z=1, a=2), "dtype": ember.int16, "device": ember.device("cpu"),
           "size": ember.Size([2, 3])}
    out = torch.load(ember_bytes(obj))
    assert type(out["p"]) is torch.nn.Parameter and out["p"].requires_grad
    assert type(out["frozen"]) is torch.nn.Parameter and not out["frozen"].requires_grad
    assert out["again"] is out["p"]
    assert_same(p, out["p"])
    assert_same(frozen, out["frozen"])
    assert out["nested"][1][0] is out["nested"][0]
    assert_same(t[1:], out["nested"][1][1]["k"])
    assert out["values"] == [1, 2.5, "s", None, True, b"by", 2 ** 70, 1 + 2j]
    assert out["set"] == {3} and type(out["od"]) is OrderedDict and list(out["od"]) == ["z", "a"]
    assert out["dtype"] is torch.int16 and out["device"] == torch.device("cpu")
    assert type(out["size"]) is torch.Size and out["size"] == (2, 3)


def test_ember_to_torch_fortran_order_and_copied_views():
    f = ember.from_numpy(np.asfortranarray(np.arange(12.0).reshape(3, 4)))
    odd = ember.Tensor._make(np.arange(10.0)[::-1])  # negative strides: saved as a copy
    wide = ember.arange(3.0).reshape(3, 1).expand(3, 4)  # stride 0
    out = torch.load(ember_bytes({"f": f, "row": f[1], "odd": odd, "wide": wide}))
    assert_same(f, out["f"])
    assert out["f"].stride() == (1, 3)
    assert_same(f[1], out["row"])
    assert_same(odd, out["odd"])
    assert_same(wide, out["wide"])
    assert out["wide"].stride() == (1, 0) and out["wide"].untyped_storage().nbytes() == 12


def test_ember_save_requires_grad_nonleaf():
    x = ember.ones(2, requires_grad=True) * 2
    out = torch.load(ember_bytes(x))
    assert out.requires_grad and out.is_leaf and out.tolist() == [2.0, 2.0]


def test_round_trip_ember_to_ember():
    base = ember.arange(6.0).reshape(2, 3)
    sd = {"a": base, "b": base.t(), "p": ember.nn.Parameter(ember.ones(2))}
    out = ember.load(ember_bytes(sd))
    assert out["b"].data_ptr() == out["a"].data_ptr()
    assert out["b"].stride() == (1, 3)
    assert type(out["p"]) is ember.nn.Parameter
    assert out["a"].tolist() == base.tolist()


def test_archive_layout_matches_torch():
    buf = ember_bytes({"a": ember.ones(3), "b": ember.zeros(5, dtype=ember.int64)})
    names = zipfile.ZipFile(buf).namelist()
    ref = zipfile.ZipFile(torch_bytes({"a": torch.ones(3), "b": torch.zeros(5, dtype=torch.long)}))
    assert names == ref.namelist()
    z = zipfile.ZipFile(buf)
    for key in (".format_version", ".storage_alignment", "byteorder", "version"):
        assert z.read(f"archive/{key}") == ref.read(f"archive/{key}")
    assert len(z.read("archive/.data/serialization_id")) == 40
    raw = buf.getvalue()
    for info in z.infolist():  # every record starts 64-byte aligned, as torch writes them
        name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:
                                                       info.header_offset + 30])
        assert (info.header_offset + 30 + name_len + extra_len) % 64 == 0


def test_zip64_records(monkeypatch):
    # every size and offset "needs" ZIP64 fields
    monkeypatch.setattr(_zip.ZipWriter, "zip64_limit", 0)
    sd = {"a": ember.arange(5.0), "b": ember.ones(2, dtype=ember.int8)}
    buf = ember_bytes(sd)
    assert zipfile.ZipFile(buf).testzip() is None
    buf.seek(0)
    out = torch.load(buf)
    assert out["a"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0] and out["b"].dtype is torch.int8
    buf.seek(0)
    assert ember.load(buf)["a"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


# ---- paths, file objects, mmap ----------------------------------------------------------------
def test_paths_and_archive_name(tmp_path):
    e = ember.arange(3.0)
    ember.save(e, str(tmp_path / "model.pt"))
    ember.save(e, tmp_path / "other.ckpt")
    assert zipfile.ZipFile(tmp_path / "model.pt").namelist()[0] == "model/data.pkl"
    assert torch.load(tmp_path / "model.pt").tolist() == [0.0, 1.0, 2.0]
    assert ember.load(tmp_path / "other.ckpt").tolist() == [0.0, 1.0, 2.0]
    assert ember.load(str(tmp_path / "model.pt"), mmap=True).tolist() == [0.0, 1.0, 2.0]
    with open(tmp_path / "file.pt", "wb") as fh:
        ember.save({"x": e}, fh)
    with open(tmp_path / "file.pt", "rb") as fh:
        assert ember.load(fh)["x"].tolist() == [0.0, 1.0, 2.0]


def test_mmap_load_of_torch_file(tmp_path):
    base = torch.arange(12.0).reshape(3, 4)
    torch.save({"a": base, "b": base[1:]}, tmp_path / "m.pt")
    out = ember.load(tmp_path / "m.pt", mmap=True)
    assert_same(out["a"], base)
    assert_same(out["b"], base[1:])
    with ember.no_grad():
        out["a"].mul_(2)  # copy-on-write: the file is unchanged
    assert out["b"][0, 0].item() == 8.0
    assert ember.load(tmp_path / "m.pt")["a"][1, 0].item() == 4.0


def test_bytesio_at_nonzero_position():
    buf = io.BytesIO()
    buf.write(b"header")
    ember.save(ember.arange(3), buf)
    buf.seek(6)
    assert ember.load(buf).tolist() == [0, 1, 2]


# ---- weights_only -----------------------------------------------------------------------------
def test_weights_only_rejects_unknown_globals():
    buf = torch_bytes({"obj": Custom(3)})
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL tests\.test_serialization\.Custom "
                                                     "was not an allowed global"):
        ember.load(buf)
    buf.seek(0)
    assert ember.load(buf, weights_only=False)["obj"].value == 3
    buf.seek(0)
    with ember.serialization.safe_globals([Custom]):
        assert ember.load(buf)["obj"].value == 3
    assert ember.serialization.get_safe_globals() == []
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ember.load(buf, weights_only=True)


def test_weights_only_refuses_code_execution():
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    buf = ember_bytes(Evil())
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL print was not an allowed global"):
        ember.load(buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL print was not an allowed global"):
        torch.load(buf)  # torch refuses ember's file for the same reason


def test_torch_module_objects_are_refused():
    buf = torch_bytes(torch.nn.Linear(2, 2))
    with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.linear.Linear"):
        ember.load(buf, weights_only=False)


def test_ember_module_pickles_with_weights_only_false():
    model = ember.nn.Linear(2, 3)
    out = ember.load(ember_bytes(model), weights_only=False)
    assert type(out) is ember.nn.Linear
    assert out.weight.tolist() == model.weight.tolist()
    with pytest.raises(pickle.UnpicklingError, match="ember.nn.modules.linear.Linear"):
        ember.load(ember_bytes(model))


# ---- map_location -----------------------------------------------------------------------------
def cuda_file() -> io.BytesIO:
    """A checkpoint whose storage is tagged 'cuda:0' (as torch writes for CUDA tensors)."""
    src = zipfile.ZipFile(torch_bytes({"w": torch.arange(4.0)}))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("data.pkl"):
                assert data.count(b"X\x03\x00\x00\x00cpu") == 1
                data = data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
            z.writestr(info.filename, data)
    out.seek(0)
    return out


@pytest.mark.parametrize("map_location", [None, "cpu", ember.device("cpu"), {"cpu": "cpu"},
                                          lambda storage, location: storage,
                                          lambda storage, location: None])
def test_map_location_cpu_forms(map_location):
    base = torch.arange(6.0)
    out = ember.load(torch_bytes({"a": base, "b": base[2:]}), map_location=map_location)
    assert out["a"].device == ember.device("cpu")
    assert_same(out["b"], base[2:])
    assert out["b"].data_ptr() - out["a"].data_ptr() == 8


def test_map_location_callable_sees_storage_and_location():
    seen = []

    def fn(storage, location):
        seen.append((tuple(storage.shape), storage.dtype, location))
        return storage

    base = torch.arange(6, dtype=torch.int32)
    ember.load(torch_bytes({"a": base, "b": base[1:]}), map_location=fn)
    assert seen == [((6,), ember.int32, "cpu")]  # each storage is restored once


@pytest.mark.parametrize("map_location", ["cpu", {"cuda:0": "cpu"}, ember.device("cpu"),
                                          lambda storage, location: storage])
def test_cuda_file_mapped_to_cpu(map_location):
    out = ember.load(cuda_file(), map_location=map_location)
    assert out["w"].tolist() == [0.0, 1.0, 2.0, 3.0] and out["w"].device.type == "cpu"


def test_cuda_file_without_cuda():
    if ember.cuda.is_available():
        assert ember.load(cuda_file())["w"].device == ember.device("cuda:0")
        return
    with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
        torch.load(cuda_file())
    with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
        ember.load(cuda_file())
    with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
        ember.load(cuda_file(), map_location="cuda")


def test_bad_map_location():
    with pytest.raises(TypeError, match="map_location"):
        ember.load(torch_bytes(torch.ones(1)), map_location=3)
    with pytest.raises(RuntimeError, match="Invalid device string"):
        ember.load(torch_bytes(torch.ones(1)), map_location="cpu:x")


@pytest.mark.cuda
def test_cuda_round_trip():
    x = ember.arange(6.0, device="cuda").reshape(2, 3)
    buf = ember_bytes({"x": x, "t": x.t()})
    z = zipfile.ZipFile(buf)
    assert b"cuda:0" in z.read("archive/data.pkl")
    buf.seek(0)
    out = ember.load(buf)
    assert out["x"].device == ember.device("cuda:0") and out["t"].tolist() == x.t().tolist()
    buf.seek(0)
    cpu = ember.load(buf, map_location="cpu")
    assert cpu["t"].device == ember.device("cpu") and cpu["t"].tolist() == x.t().tolist()
    buf.seek(0)
    assert torch.load(buf, map_location="cpu")["t"].tolist() == x.t().tolist()


# ---- models and optimizers ----------------------------------------------------------------------
def test_sequential_state_dict_both_ways():
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    emodel = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 2))
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)

    emodel.load_state_dict(ember.load(torch_bytes(tmodel.state_dict())))
    expected = tmodel(torch.from_numpy(x)).detach().numpy()
    for (ke, ve), (kt, vt) in zip(emodel.state_dict().items(), tmodel.state_dict().items()):
        assert ke == kt
        assert_same(ve, vt)
    np.testing.assert_allclose(emodel(ember.from_numpy(x)).detach().numpy(), expected,
                               rtol=1e-6, atol=1e-7)

    emodel2 = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 2))
    tmodel.load_state_dict(torch.load(ember_bytes(emodel2.state_dict())))
    np.testing.assert_allclose(tmodel(torch.from_numpy(x)).detach().numpy(),
                               emodel2(ember.from_numpy(x)).detach().numpy(), rtol=1e-6, atol=1e-7)
    assert list(ember.load(ember_bytes(emodel2.state_dict()))) == list(tmodel.state_dict())


def test_optimizer_state_dict_both_ways():
    # What torch 2.13's SGD(lr=0.1, momentum=0.9).state_dict() holds after one step on two
    # parameters of ones (built by hand: making a torch optimizer costs seconds of imports).
    tsd = {"state": {0: {"momentum_buffer": torch.ones(3)}, 1: {"momentum_buffer": torch.ones(2)}},
           "param_groups": [{"lr": 0.1, "momentum": 0.9, "dampening": 0, "weight_decay": 0,
                             "nesterov": False, "maximize": False, "foreach": None,
                             "differentiable": False, "fused": None, "params": [0, 1]}]}
    loaded = ember.load(torch_bytes(tsd))
    assert loaded["param_groups"] == tsd["param_groups"]
    assert set(loaded["state"]) == {0, 1}
    for k in (0, 1):
        assert_same(loaded["state"][k]["momentum_buffer"], tsd["state"][k]["momentum_buffer"])
    eparams = [ember.nn.Parameter(ember.ones(3)), ember.nn.Parameter(ember.ones(2))]
    eopt = ember.optim.SGD(eparams, lr=0.1, momentum=0.9)
    eopt.load_state_dict(loaded)
    back = torch.load(ember_bytes(eopt.state_dict()))
    assert back["param_groups"] == tsd["param_groups"]
    for k in (0, 1):
        torch.testing.assert_close(back["state"][k]["momentum_buffer"],
                                   tsd["state"][k]["momentum_buffer"])


# ---- bad input --------------------------------------------------------------------------------
def test_save_errors(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory .*missing does not exist"):
        ember.save(ember.ones(1), tmp_path / "missing" / "x.pt")
    with pytest.raises(AttributeError, match="'write' attribute"):
        ember.save(ember.ones(1), 123)
    with pytest.raises(AttributeError, match="'write' attribute"):
        torch.save(torch.ones(1), 123)


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        ember.load(tmp_path / "nope.pt")
    with pytest.raises(EOFError):
        ember.load(io.BytesIO())
    with pytest.raises(pickle.UnpicklingError, match="Invalid magic number"):
        ember.load(io.BytesIO(b"not a checkpoint at all"))
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap"):
        ember.load(torch_bytes(torch.ones(1)), mmap=True)
    with pytest.raises(RuntimeError, match="explicit pickle_module"):
        ember.load(torch_bytes(torch.ones(1)), pickle_module=pickle)
    with pytest.raises(AttributeError, match="has no attribute 'seek'. You can only ember.load "
                                             "from a file that is seekable"):
        ember.load(123)
    legacy = io.BytesIO()
    torch.save(torch.ones(2), legacy, _use_new_zipfile_serialization=False)
    legacy.seek(0)
    with pytest.raises(RuntimeError, match="legacy format"):
        ember.load(legacy)
    with pytest.raises(RuntimeError, match="bfloat16|BFloat16"):
        ember.load(torch_bytes(torch.ones(2, dtype=torch.bfloat16)))
    with pytest.raises(RuntimeError, match="failed finding central directory"):
        ember.load(io.BytesIO(b"PK\x03\x04" + b"\x00" * 40))


def test_out_of_bounds_tensor_is_refused():
    """A crafted file cannot make a tensor read past its storage."""
    src = zipfile.ZipFile(torch_bytes(torch.arange(4.0)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("data.pkl"):
                data = data.replace(b"K\x04\x85", b"K\x09\x85")  # size (4,) -> (9,)
            z.writestr(info.filename, data)
    out.seek(0)
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 16"):
        ember.load(out)


def test_parameter_with_python_attributes():
    p = torch.nn.Parameter(torch.ones(2))
    p.tag = "frozen-layer"
    out = ember.load(torch_bytes({"p": p}))["p"]
    assert type(out) is ember.nn.Parameter and out.tag == "frozen-layer"
    assert out.tolist() == [1.0, 1.0]


# ---- the same objects through either library --------------------------------------------------
def _objects(lib):
    """Tensors of every dtype (0-d, empty, views of one base) and Python values, built the
    same way in ember and torch."""
    base = lib.arange(24.0).reshape(4, 6)
    obj = OrderedDict()
    for name in DTYPES:
        dt = getattr(lib, name)
        obj[name] = [lib.tensor([[1, 0, 3], [4, 5, 0]], dtype=dt), lib.tensor(1, dtype=dt),
                     lib.zeros(0, 3, dtype=dt)]
    obj["views"] = {"base": base, "t": base.t(), "slice": base[1:3, ::2], "row": base[2],
                    "col": base[:, 1], "zero_d": base[3, 5], "expand": lib.ones(1, 3).expand(4, 3),
                    "size_one_dims": [base[2:3], base[:, 1:2], lib.ones(3)[None],
                                      lib.ones(2, 1, 3).transpose(0, 2)]}
    obj["python"] = [1, 2.5, True, None, "s", b"by", (1, (2,)), {"a": [1, {"b": None}]},
                     float("inf"), 3 + 4j, -(2 ** 70), {1, 2}]
    obj["params"] = (lib.nn.Parameter(lib.ones(2)),
                     lib.nn.Parameter(lib.ones(2), requires_grad=False),
                     lib.ones(2, requires_grad=True))
    obj["meta"] = [lib.Size([2, 3]), lib.float16, lib.device("cpu")]
    return obj


def _flatten(obj, path=""):
    """(path, leaf) pairs of a nested object, containers' types included."""
    if isinstance(obj, dict):
        yield path, type(obj).__name__
        for k, v in obj.items():
            yield from _flatten(v, f"{path}/{k}")
    elif isinstance(obj, (list, tuple)) and not hasattr(obj, "dtype") and \
            type(obj).__name__ not in ("Size",):
        yield path, type(obj).__name__
        for i, v in enumerate(obj):
            yield from _flatten(v, f"{path}/{i}")
    else:
        yield path, obj


def _describe(obj, lib):
    """Everything a load must reproduce, in library-neutral terms: for tensors the type,
    dtype, shape, strides, offset, values, requires_grad and which storage they are in."""
    storages: dict[int, int] = {}
    out = []
    for path, leaf in _flatten(obj):
        if isinstance(leaf, lib.Tensor):
            ptr = leaf.untyped_storage().data_ptr() if lib is torch else \
                leaf.data_ptr() - leaf.storage_offset() * leaf.element_size()
            if leaf.numel():
                ptr = storages.setdefault(ptr, len(storages))
            else:
                ptr = None  # an empty tensor's storage is nowhere in particular
            out.append((path, type(leaf).__name__, str(leaf.dtype).split(".")[1],
                        tuple(leaf.shape), tuple(leaf.stride()) if leaf.numel() else None,
                        leaf.storage_offset() if leaf.numel() else None, leaf.tolist(),
                        leaf.requires_grad, ptr))
        elif isinstance(leaf, (lib.dtype, lib.device, lib.Size)):
            out.append((path, type(leaf).__name__, str(leaf).replace("torch", "ember")))
        else:
            out.append((path, type(leaf).__name__, repr(leaf)))
    return out


def test_every_object_loads_alike_whichever_library_saved_it():
    """torch.load(ember.save(x)) is torch.load(torch.save(x)), and ember.load(torch.save(x))
    is ember.load(ember.save(x)), for the same objects built in each library."""
    from_torch = torch_bytes(_objects(torch)).getvalue()
    from_ember = ember_bytes(_objects(ember)).getvalue()
    expected = _describe(torch.load(io.BytesIO(from_torch)), torch)
    assert _describe(torch.load(io.BytesIO(from_ember)), torch) == expected
    assert _describe(ember.load(io.BytesIO(from_torch)), ember) == expected
    assert _describe(ember.load(io.BytesIO(from_ember)), ember) == expected


@pytest.mark.parametrize("make", [lambda: Custom(2), lambda: np.arange(3), lambda: slice(1, 2),
                                  lambda: __import__("collections").defaultdict(int)],
                         ids=["class", "numpy", "builtin", "stdlib"])
def test_weights_only_error_text_matches_torch(make):
    from torch.serialization import UNSAFE_MESSAGE as TORCH_UNSAFE

    from ember.serialization._unpickler import DOCS_MESSAGE, UNSAFE_MESSAGE

    buf = torch_bytes({"obj": make()})
    with pytest.raises(pickle.UnpicklingError) as t:
        torch.load(buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError) as e:
        ember.load(buf)
    text, docs = str(t.value), "\n\nCheck the documentation of torch.load"
    expected = text[:text.index(docs)].replace(TORCH_UNSAFE, UNSAFE_MESSAGE) \
        .replace("torch.serialization", "ember.serialization") + DOCS_MESSAGE
    assert str(e.value) == expected


class _Stream(io.RawIOBase):
    """A readable stream that cannot seek (a pipe, a socket)."""

    def readable(self):
        return True

    def readinto(self, b):
        return 0


@pytest.mark.parametrize("make", [lambda: 123, _Stream], ids=["int", "stream"])
def test_unseekable_file_error_matches_torch(make):
    with pytest.raises(Exception) as t:
        torch.load(make())
    with pytest.raises(Exception) as e:
        ember.load(make())
    assert type(e.value) is type(t.value)
    assert str(e.value) == str(t.value).replace("torch.load", "ember.load")


class _MinimalFile:
    """A file object with only what torch.save / torch.load use: write and flush, or
    read, seek and tell."""

    def __init__(self, data=b""):
        self._buf = io.BytesIO(data)

    def write(self, data):
        return self._buf.write(data)

    def flush(self):
        pass

    def read(self, n=-1):
        return self._buf.read(n)

    def seek(self, *args):
        return self._buf.seek(*args)

    def tell(self):
        return self._buf.tell()


def test_minimal_file_objects_work_like_torch():
    big = torch.arange(50_000)
    src = _MinimalFile()
    torch.save({"w": big, "b": big[::7]}, src)
    out = ember.load(_MinimalFile(src._buf.getvalue()))
    assert out["w"].tolist() == big.tolist() and out["b"].tolist() == big[::7].tolist()
    dst = _MinimalFile()
    ember.save({"w": ember.arange(5.0)}, dst)
    assert torch.load(_MinimalFile(dst._buf.getvalue()))["w"].tolist() == [0, 1, 2, 3, 4]
