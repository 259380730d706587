"""ember on CUDA (CuPy) against torch's CUDA build. Skipped on machines without a GPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

pytestmark = pytest.mark.cuda

OPS = {
    "add": lambda m, x, y: x + y,
    "sub_scalar": lambda m, x, y: 2.0 - x,
    "mul": lambda m, x, y: x * y,
    "div": lambda m, x, y: x / (y.abs() + 1),
    "pow_scalar": lambda m, x, y: x ** 3,
    "pow_tensor": lambda m, x, y: (x.abs() + 0.5) ** y,
    "exp": lambda m, x, y: x.exp(),
    "log": lambda m, x, y: (x.abs() + 0.1).log(),
    "sqrt": lambda m, x, y: (x.abs() + 0.1).sqrt(),
    "sin_cos": lambda m, x, y: x.sin() * y.cos(),
    "tanh": lambda m, x, y: x.tanh(),
    "sigmoid": lambda m, x, y: x.sigmoid(),
    "relu": lambda m, x, y: (x * y).relu(),
    "clamp": lambda m, x, y: x.clamp(-0.5, 0.5),
    "where": lambda m, x, y: m.where(x > y, x, y * 2),
    "maximum": lambda m, x, y: m.maximum(x, y),
    "sum_dim": lambda m, x, y: (x * y).sum(1, keepdim=True),
    "mean": lambda m, x, y: (x - y).mean(),
    "max_dim": lambda m, x, y: x.max(dim=1)[0],
    "amax": lambda m, x, y: x.amax(0),
    "prod": lambda m, x, y: (x.abs() + 0.5).prod(1),
    "matmul": lambda m, x, y: x @ y.t(),
    "mm": lambda m, x, y: m.mm(x, y.t()),
    "bmm": lambda m, x, y: m.bmm(x.unsqueeze(0), y.t().unsqueeze(0)),
    "matmul_batched": lambda m, x, y: x.reshape(2, 2, 5) @ y.t(),
    "views": lambda m, x, y: x.view(5, 4).t().reshape(20).unsqueeze(0).expand(3, 20),
    "permute": lambda m, x, y: x.reshape(2, 2, 5).permute(2, 0, 1).transpose(0, 1),
    "index_basic": lambda m, x, y: x[1:3, ::2] * y[0, ::2],
    "index_advanced": lambda m, x, y: x[m.tensor([0, 2, 2], device=x.device)],
    "index_mask": lambda m, x, y: x[x > 0],
    "broadcast": lambda m, x, y: x + y[0:1, :] * y[:, 0:1],
}


def _pair(device_e, device_t):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.standard_normal((4, 5)).astype(np.float32)
    ex = ember.tensor(a, device=device_e, requires_grad=True)
    ey = ember.tensor(b, device=device_e, requires_grad=True)
    tx = torch.tensor(a, device=device_t, requires_grad=True)
    ty = torch.tensor(b, device=device_t, requires_grad=True)
    return ex, ey, tx, ty


def _host(t):
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_forward_backward_matches_torch_cuda(name):
    fn = OPS[name]
    ex, ey, tx, ty = _pair("cuda", "cuda")
    eo, to = fn(ember, ex, ey), fn(torch, tx, ty)
    assert eo.device == ember.device("cuda", 0)
    assert eo.is_cuda
    np.testing.assert_allclose(_host(eo), _host(to), rtol=1e-5, atol=1e-5)
    g = np.random.default_rng(1).standard_normal(tuple(to.shape)).astype(np.float32)
    eo.backward(ember.tensor(g, device="cuda"))
    to.backward(torch.tensor(g, device="cuda"))
    for e, t in ((ex, tx), (ey, ty)):
        if t.grad is None:
            assert e.grad is None
            continue
        assert e.grad.is_cuda
        np.testing.assert_allclose(_host(e.grad), _host(t.grad), rtol=1e-4, atol=1e-5)


def test_creation_and_moves():
    x = ember.tensor([1.0, 2.0], device="cuda")
    assert x.device.type == "cuda" and x.device.index == 0
    assert str(x.device) == "cuda:0"
    y = ember.tensor([1.0, 2.0]).cuda()
    z = ember.tensor([1.0, 2.0]).to("cuda")
    w = ember.tensor([1.0, 2.0]).to(device=ember.device("cuda:0"))
    for t in (y, z, w):
        assert t.is_cuda
    back = (x + y).cpu()
    assert not back.is_cuda
    assert back.tolist() == [2.0, 4.0]
    for factory in (ember.zeros, ember.ones, ember.randn, ember.rand, ember.empty):
        t = factory(2, 3, device="cuda")
        assert t.is_cuda and t.shape == (2, 3)
    assert ember.arange(5, device="cuda").tolist() == [0, 1, 2, 3, 4]


def test_repr_has_device_suffix():
    e = ember.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    t = torch.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    assert repr(e) == repr(t).replace("torch.", "ember.")
    assert repr(e * 2) == repr(t * 2).replace("torch.", "ember.")


def test_mixing_devices_raises_like_torch():
    a = ember.ones(3, device="cuda")
    b = ember.ones(3)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        a + b
    with pytest.raises(RuntimeError):
        torch.ones(3, device="cuda") + torch.ones(3)


def test_numpy_of_cuda_tensor_raises():
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        ember.ones(2, device="cuda").numpy()


def test_grad_flows_across_devices():
    a = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a.cuda() * 2
    b.cpu().sum().backward()
    assert not a.grad.is_cuda
    assert a.grad.tolist() == [2.0, 2.0, 2.0]


def test_environment_queries():
    assert ember.cuda.is_available()
    assert ember.accelerator.is_available()
    assert ember.accelerator.current_accelerator() == ember.device("cuda")
    assert ember.cuda.device_count() >= 1
    assert isinstance(ember.version.cuda, str)


def test_inplace_and_setitem_on_cuda():
    e = ember.zeros(4, 3, device="cuda")
    t = torch.zeros(4, 3, device="cuda")
    for m, x in ((ember, e), (torch, t)):
        x[1:3] = 2.0
        x[0] += m.ones(3, device="cuda")
        x.mul_(3)
        x[x > 5] = -1.0
    np.testing.assert_array_equal(_host(e), _host(t))


def test_seed_autograd_example_on_cuda():
    a = ember.tensor([2.0, 3.0], requires_grad=True, device="cuda")
    b = ember.tensor([6.0, 4.0], requires_grad=True, device="cuda")
    q = 3 * a ** 3 - b ** 2
    q.backward(gradient=ember.tensor([1.0, 1.0], device="cuda"))
    assert a.grad.tolist() == [36.0, 81.0]
    assert b.grad.tolist() == [-12.0, -8.0]


# Seed 004's device cell, verbatim; the comments in it state each tensor's device.
SEED_004_DEVICE_CELL = '''
cuda = torch.device('cuda')      # Default CUDA device
cuda0 = torch.device('cuda:0')
cuda2 = torch.device('cuda:2')  # GPU 2 (these are 0-indexed)

x = torch.tensor([1., 2.], device=cuda0)
# x.device is device(type='cuda', index=0)
y = torch.tensor([1., 2.]).cuda()
# y.device is device(type='cuda', index=0)

with torch.cuda.device(1):
    # allocates a tensor on GPU 1
    a = torch.tensor([1., 2.], device=cuda)

    # transfers a tensor from CPU to GPU 1
    b = torch.tensor([1., 2.]).cuda()
    # a.device and b.device are device(type='cuda', index=1)

    # You can also use ``Tensor.to`` to transfer a tensor:
    b2 = torch.tensor([1., 2.]).to(device=cuda)
    # b.device and b2.device are device(type='cuda', index=1)

    c = a + b
    # c.device is device(type='cuda', index=1)

    z = x + y
    # z.device is device(type='cuda', index=0)

    # even within a context, you can specify the device
    # (or give a GPU index to the .cuda call)
    d = torch.randn(2, device=cuda2)
    e = torch.randn(2).to(cuda2)
    f = torch.randn(2).cuda(cuda2)
    # d.device, e.device, and f.device are all device(type='cuda', index=2)
'''


@pytest.mark.skipif(ember.cuda.device_count() < 3, reason="seed 004's cell uses GPUs 0-2")
def test_seed_004_device_cell():
    for lib in (ember, torch):
        ns = {"torch": lib}
        exec(SEED_004_DEVICE_CELL, ns)
        for name, index in dict(x=0, y=0, a=1, b=1, b2=1, c=1, z=0, d=2, e=2, f=2).items():
            dev = ns[name].device
            assert (dev.type, dev.index) == ("cuda", index), (lib.__name__, name, dev)
        assert lib.cuda.current_device() == 0


def test_current_device_context_on_one_gpu():
    """``device='cuda'`` means the current device; ``cuda.device(i)`` changes it inside."""
    for lib in (ember, torch):
        with lib.cuda.device(0):
            t = lib.zeros(2, device="cuda")
            assert (t.device.type, t.device.index) == ("cuda", 0)
            assert lib.cuda.current_device() == 0
        with lib.cuda.device(None):  # None: no change
            assert lib.tensor([1.0]).cuda().device.index == 0
        lib.cuda.set_device("cuda:0")
        assert lib.cuda.current_device() == 0
        on_gpu = lib.ones(2, device="cuda:0")
        assert on_gpu.to("cuda") is on_gpu  # 'cuda' is the current device: no copy


# ---- CuPy arrays where NumPy's behaviour was assumed -------------------------------------------
def test_views_share_storage_and_refuse_like_torch():
    e = ember.arange(12, device="cuda").float()
    t = torch.arange(12, device="cuda").float()
    for x in (e, t):
        v = x.view(3, 4)
        assert v.data_ptr() == x.data_ptr()
        assert x.reshape(4, 3).data_ptr() == x.data_ptr()  # a view, not a copy
        tr = v.t()
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            tr.view(12)
        flat = tr.reshape(12)  # a copy
        assert flat.data_ptr() != x.data_ptr()
        v[0, 0] = 100.0
        assert x[0].item() == 100.0
    np.testing.assert_array_equal(_host(e.view(3, 4).t().reshape(12)),
                                  _host(t.view(3, 4).t().reshape(12)))


def test_size_one_views_have_torch_strides_and_a_base():
    e = ember.zeros(1, 3, device="cuda").expand(2, 1, 3)
    assert e.stride() == torch.zeros(1, 3, device="cuda").expand(2, 1, 3).stride()
    # made by as_strided: it must not pass for the owner of its memory (the engine takes an
    # owning gradient as .grad without a copy)
    assert e._data.base is not None


def test_int_scalar_wraps_on_cuda_like_torch():
    got = []
    for m in (ember, torch):
        a = m.tensor([1, -24], dtype=m.int8, device="cuda")
        got.append(((a + 1000).tolist(), (a - 1000).tolist(), (a == 1000).tolist()))
    assert got[0] == got[1]


def test_argmax_of_0d_stays_on_cuda():
    e = ember.tensor(3.0, device="cuda").argmax()
    assert e.is_cuda and e.item() == torch.tensor(3.0, device="cuda").argmax().item()


def test_fill_and_copy_across_devices_like_torch():
    got = []
    for m in (ember, torch):
        cpu = m.zeros(3)
        cpu.fill_(m.tensor(2.0, device="cuda"))
        gpu = m.zeros(3, device="cuda")
        gpu.fill_(m.tensor(5.0))
        src = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        dst = m.zeros(3, device="cuda")
        dst.copy_(src)  # recorded: src requires grad
        (dst * 2).sum().backward()
        assert dst.is_cuda and not src.grad.is_cuda
        got.append((cpu.tolist(), gpu.tolist(), dst.tolist(), src.grad.tolist()))
    assert got[0] == got[1]


def test_numpy_functions_of_a_cuda_tensor_raise_like_torch():
    for m in (ember, torch):
        with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
            np.asarray(m.ones(2, device="cuda"))


def test_copy_and_pickle_keep_the_device():
    import copy
    import pickle

    e = ember.tensor([1.0, 2.0], device="cuda")
    for u in (copy.copy(e), copy.deepcopy(e), pickle.loads(pickle.dumps(e))):
        assert u.is_cuda and u.tolist() == [1.0, 2.0]
