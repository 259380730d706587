"""``ember.autograd.functional``: Jacobians, Hessians and their products with vectors.

Each function takes a Python function of Tensors and the point to differentiate it at, and
returns results shaped as PyTorch does: a Tensor where the function took (or returned) a
single Tensor, a tuple where it took (or returned) a tuple. Forward-mode products (``jvp``,
``hvp``, the ``forward-mode`` Jacobian) use the double-backward trick: the VJP ``u -> J^T u``
is linear in ``u``, so differentiating it with respect to ``u`` gives ``J v``.
``vectorize=True`` computes every row of a Jacobian in one batched backward pass.
"""

from __future__ import annotations

from contextlib import nullcontext

from ..creation import zeros_like
from ..tensor import Tensor
from .api import grad as _grad
from .batching import stack
from .grad_mode import GradMode, enable_grad, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ---- argument handling ----------------------------------------------------------------
def _as_tuple(inp, arg_name: str, fn_name: str):
    """``(was_a_tuple, inp as a tuple)``, checking that it holds only Tensors."""
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the {where} has type {type(el)}.")
    return is_tuple, items


def _tuple_postprocess(res, to_unpack):
    """Unwrap the one-element tuples that stand for single Tensors given by the user."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph: bool, need_graph: bool):
    """Fresh tensors to differentiate with respect to (still connected to the user's graph
    when ``create_graph``)."""
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            res.append(inp.view_as(inp))
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs, create_graph: bool):
    if isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but "
                               f"got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.size()} but "
                               f"got {el_v.size()}.")


_STRICT_NO_GRAD = {
    "hessian": ("The hessian of the user-provided function with respect to input {i} is "
                "independent of the input. This is not allowed in strict mode. You should "
                "ensure that your function is thrice differentiable and that the hessian "
                "depends on the inputs."),
    "jacobian": ("While computing the hessian, found that the jacobian of the user-provided "
                 "function with respect to input {i} is independent of the input. This is not "
                 "allowed in strict mode. You should ensure that your function is twice "
                 "differentiable and that the jacobian depends on the inputs (this would be "
                 "violated by a linear function for example)."),
    "grad_inputs": ("The gradient with respect to input {i} is independent of the inputs of "
                    "the user-provided function. This is not allowed in strict mode."),
    "outputs": ("Output {i} of the user-provided function does not require gradients. The "
                "outputs must be computed in a differentiable manner from the input when "
                "running in strict mode."),
}


def _check_requires_grad(inputs, input_type: str, strict: bool) -> None:
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not inp.requires_grad:
            raise RuntimeError(_STRICT_NO_GRAD[input_type].format(i=i))


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph: bool = False,
                   retain_graph=None, is_grads_batched: bool = False):
    """``autograd.grad`` over the outputs that require grad; None for unused inputs."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    new_outputs, new_grad_outputs = [], []
    for out, g in zip(outputs, grad_outputs):
        if out is not None and out.requires_grad:
            new_outputs.append(out)
            new_grad_outputs.append(g)
    if not new_outputs:
        return (None,) * len(inputs)
    return _grad(new_outputs, inputs, new_grad_outputs, allow_unused=True,
                 create_graph=create_graph, retain_graph=retain_graph,
                 is_grads_batched=is_grads_batched)


_ZERO_FILL_ERRORS = {
    "back": ("The output of the user-provided function is independent of input {i}. This is "
             "not allowed in strict mode."),
    "back_trick": ("The gradient with respect to the input is independent of entry {i} in the "
                   "grad_outputs when using the double backward trick to compute forward mode "
                   "gradients. This is not allowed in strict mode."),
    "double_back": ("The jacobian of the user-provided function is independent of input {i}. "
                    "This is not allowed in strict mode."),
    "double_back_trick": ("The hessian of the user-provided function is independent of entry "
                          "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                          "prevents from using the double backward trick to replace forward "
                          "mode AD."),
}


def _fill_in_zeros(grads, refs, strict: bool, create_graph: bool, stage: str):
    """Zeros (shaped like ``refs``) where no gradient flowed; strict mode raises instead."""
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_ZERO_FILL_ERRORS[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        res.append(g)
    return tuple(res)


def _prepare(fn_name, inputs, v, create_graph):
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
    return is_inputs_tuple, inputs, v


def _call(func, fn_name, inputs, strict):
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                          fn_name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    return is_outputs_tuple, outputs


# ---- products -------------------------------------------------------------------------
def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The vector-Jacobian product ``v^T J`` of ``func`` at ``inputs``.

    Returns ``(func_output, vjp)``; ``vjp`` has the structure of ``inputs``. ``v`` may be
    left out when ``func`` returns a single one-element Tensor.
    """
    with enable_grad():
        is_inputs_tuple, inputs, v = _prepare("vjp", inputs, v, create_graph)
        is_outputs_tuple, outputs = _call(func, "vjp", inputs, strict)
        if v is not None:
            _validate_v(v, outputs, is_outputs_tuple)
        elif len(outputs) != 1 or outputs[0].nelement() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
    with set_grad_enabled(True if create_graph else GradMode.enabled):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The Jacobian-vector product ``J v`` of ``func`` at ``inputs`` (by double backward).

    Returns ``(func_output, jvp)``; ``jvp`` has the structure of the outputs. ``v`` may be
    left out when ``inputs`` is a single one-element Tensor.
    """
    with enable_grad():
        is_inputs_tuple, inputs, v = _prepare("jvp", inputs, v, create_graph)
        if v is not None:
            _validate_v(v, inputs, is_inputs_tuple)
        elif len(inputs) != 1 or inputs[0].nelement() != 1:
            raise RuntimeError("The vector v can only be None if the input to the "
                               "user-provided function is a single Tensor with a single "
                               "element.")
        is_outputs_tuple, outputs = _call(func, "jvp", inputs, strict)
        # u -> J^T u is linear in u; its gradient with respect to u, weighted by v, is J v.
        grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    with set_grad_enabled(True) if create_graph else nullcontext():
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_outputs_tuple))


def _single_output(fn_name, outputs, is_outputs_tuple) -> None:
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The vector-Hessian product ``v^T H`` of a scalar function ``func`` at ``inputs``.

    Returns ``(func_output, vhp)``; ``vhp`` has the structure of ``inputs``.
    """
    with enable_grad():
        is_inputs_tuple, inputs, v = _prepare("vhp", inputs, v, create_graph)
        _check_v_for_inputs(v, inputs, is_inputs_tuple)
        is_outputs_tuple, outputs = _call(func, "vhp", inputs, strict)
        _single_output("vhp", outputs, is_outputs_tuple)
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
    with set_grad_enabled(True if create_graph else GradMode.enabled):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """The Hessian-vector product ``H v`` of a scalar function ``func`` at ``inputs``
    (by double backward). Returns ``(func_output, hvp)``."""
    with enable_grad():
        is_inputs_tuple, inputs, v = _prepare("hvp", inputs, v, create_graph)
        _check_v_for_inputs(v, inputs, is_inputs_tuple)
        is_outputs_tuple, outputs = _call(func, "hvp", inputs, strict)
        _single_output("hvp", outputs, is_outputs_tuple)
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        grad_jac = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
    with set_grad_enabled(True if create_graph else GradMode.enabled):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))


def _check_v_for_inputs(v, inputs, is_inputs_tuple) -> None:
    if v is not None:
        _validate_v(v, inputs, is_inputs_tuple)
    elif len(inputs) != 1 or inputs[0].nelement() != 1:
        raise RuntimeError("The vector v can only be None if the input to the user-provided "
                           "function is a single Tensor with a single element.")


# ---- Jacobian and Hessian -------------------------------------------------------------
def _standard_basis(tensors, numels):
    """For each tensor, its rows of the identity over all of them: ``(sum(numels), n_i)``."""
    total = sum(numels)
    chunks = []
    start = 0
    for t, n in zip(tensors, numels):
        chunks.append(_eye_block(t, total, n, start))
        start += n
    return tuple(chunks)


def _eye_block(like, total: int, n: int, start: int):
    """A ``(total, n)`` tensor with ones at ``(start + k, k)``, on ``like``'s device."""
    import numpy as np

    from ..backend import to_device
    block = np.zeros((total, n), dtype=like._data.dtype)
    block[start + np.arange(n), np.arange(n)] = 1
    if like.device.type != "cpu":
        block = to_device(block, like.device)
    return Tensor._make(block)


def _split_rows(t, sizes):
    out = []
    start = 0
    for n in sizes:
        out.append(t[start:start + n])
        start += n
    return out


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``.

    For one input and one output it is a Tensor of shape ``output.shape + input.shape``;
    for tuples, ``result[i][j]`` is the Jacobian of output ``i`` w.r.t. input ``j`` (one
    level of tuple where only one side is a tuple). ``vectorize=True`` computes all rows in
    one batched backward pass; ``strategy="forward-mode"`` (which needs ``vectorize=True``)
    computes columns instead, which is cheaper when there are more outputs than inputs.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                             'Hint: If your function has more outputs than inputs, '
                             '"forward-mode" tends to be more performant. Otherwise, prefer to '
                             'use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "ember.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.')
        return _jacfwd(func, inputs, strict, vectorize)
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        is_outputs_tuple, outputs = _call(func, "jacobian", inputs, strict)
        if vectorize:
            if strict:
                raise RuntimeError(
                    "ember.autograd.functional.jacobian: `strict=True` and `vectorized=True` "
                    "are not supported together. Please either set `strict=False` or "
                    "`vectorize=False`.")
            result = _jacobian_vectorized(outputs, inputs, create_graph)
        else:
            result = _jacobian_rows(outputs, inputs, create_graph, strict)
        result = _grad_postprocess(result, create_graph)
        return _tuple_postprocess(result, (is_outputs_tuple, is_inputs_tuple))


def _jacobian_rows(outputs, inputs, create_graph, strict):
    """One backward pass per output element."""
    jacobian = []
    for i, out in enumerate(outputs):
        rows = tuple([] for _ in inputs)
        flat = out.reshape(-1)
        for j in range(out.nelement()):
            vj = _autograd_grad((flat[j],), inputs, retain_graph=True,
                                create_graph=create_graph)
            for k, (rows_k, g, inp) in enumerate(zip(rows, vj, inputs)):
                if g is not None:
                    if strict and create_graph and not g.requires_grad:
                        raise RuntimeError(
                            "The jacobian of the user-provided function is independent of "
                            f"input {i}. This is not allowed in strict mode when "
                            "create_graph=True.")
                    rows_k.append(g)
                else:
                    if strict:
                        raise RuntimeError(
                            f"Output {i} of the user-provided function is independent of "
                            f"input {k}. This is not allowed in strict mode.")
                    rows_k.append(zeros_like(inp))
        jacobian.append(tuple(
            _stack_rows(rows_k, inp).reshape(tuple(out.shape) + tuple(inp.shape))
            for rows_k, inp in zip(rows, inputs)))
    return tuple(jacobian)


def _stack_rows(rows, like):
    if not rows:
        return zeros_like(like).reshape(-1)[:0].reshape((0,) + tuple(like.shape))
    if len(rows) == 1:
        return rows[0].unsqueeze(0)
    return stack(rows)


def _jacobian_vectorized(outputs, inputs, create_graph):
    """All rows at once: one backward pass with the identity as a batch of grad_outputs."""
    numels = tuple(out.numel() for out in outputs)
    total = sum(numels)
    basis = _standard_basis(outputs, numels)
    flat_outputs = tuple(out.reshape(-1) for out in outputs)
    vj = list(_autograd_grad(flat_outputs, inputs, basis, create_graph=create_graph,
                             is_grads_batched=True))
    for k, g in enumerate(vj):
        if g is None:
            vj[k] = zeros_like(inputs[k]).expand((total,) + tuple(inputs[k].shape))
    per_input = []
    for g, inp in zip(vj, inputs):
        per_input.append([chunk.reshape(tuple(out.shape) + tuple(inp.shape))
                          for chunk, out in zip(_split_rows(g, numels), outputs)])
    return tuple(zip(*per_input))


def _jacfwd(func, inputs, strict: bool, vectorize: bool):
    """Columns of the Jacobian: ``J v`` for each basis vector ``v`` of the inputs, in one
    batched pass over the double-backward graph."""
    if strict:
        raise RuntimeError(
            "ember.autograd.functional.jacobian: `strict=True` and "
            '`strategy="forward-mode"` are not supported together (yet). Please either set '
            '`strict=False` or `strategy="reverse-mode"`.')
    if not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                  "Hessian is only implemented for `vectorize=True`.")
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    with enable_grad():
        inputs = tuple(inp if inp.requires_grad else inp.detach().requires_grad_(True)
                       for inp in inputs)
        is_outputs_tuple, outputs = _call(func, "jacobian", inputs, False)
        numels = tuple(inp.numel() for inp in inputs)
        total = sum(numels)
        tangents = tuple(t.reshape((total,) + tuple(inp.shape))
                         for t, inp in zip(_standard_basis(inputs, numels), inputs))
        dummies = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        vjps = _autograd_grad(outputs, inputs, dummies, create_graph=True)
        columns = list(_autograd_grad(vjps, dummies, tangents, is_grads_batched=True))
    result = []
    for col, out in zip(columns, outputs):
        if col is None:
            col = zeros_like(out).expand((total,) + tuple(out.shape))
        row = []
        for chunk, inp in zip(_split_rows(col, numels), inputs):
            moved = chunk.permute(tuple(range(1, chunk.ndim)) + (0,))
            row.append(moved.reshape(tuple(out.shape) + tuple(inp.shape)).detach())
        result.append(row)
    # Lists, not tuples, where both sides are tuples: PyTorch's forward mode returns those.
    return _tuple_postprocess(result, (is_outputs_tuple, is_inputs_tuple))


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar function ``func`` at ``inputs``: for one input, a Tensor of
    shape ``input.shape + input.shape``; for a tuple, ``result[i][j]`` pairs inputs i, j."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function",
                                        "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        _single_output("hessian", t_out, is_out_tuple)
        return out.squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))
