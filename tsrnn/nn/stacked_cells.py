"""K independent LSTM/GRU layers over a sequence, with a hand-written backward pass.

Each function runs one recurrent layer for K networks at once (weights stacked along a
leading axis of size K) and follows ``torch.nn.LSTM/GRU``'s equations and gate order.
Autograd through a per-step cell records every small operation of every step, allocates
each result afresh and replays more operations in the backward pass; for batch-32
networks on a CPU that cost, not the arithmetic, bounds a training step. Here:

- the forward pass writes every step into buffers that persist between calls (a
  :class:`Workspace`): the ~10 MB of fresh pages a training step of 10 networks needs cost as much
  as the arithmetic on this machine;
- every gate gradient of step ``t`` is the step's incoming hidden (or cell) gradient
  times a factor known in the forward pass, so the forward pass computes those factors
  while the step is in cache and the backward recursion is four to six operations a step;
- a step's gates are one product ``[W_hh, W_ih, b] [h_{t-1}; x_t; 1]`` for all K
  networks (one batched GEMM), so the backward pass gets every weight and bias gradient
  from one product a step, while the step's gate gradients are in cache; the separate
  input projection and its gradient (300 tiny GEMMs each for T=30, K=10, one input) cost
  a fifth of a training step.

Where ``tsrnn build-kernels`` has compiled them (:mod:`tsrnn.nn.fused`), the forward
and backward recursions run as compiled loops (``fused_cells.cpp``, the same algorithm
with each step's elementwise work fused); otherwise as the torch operations below
(``_lstm_steps`` and friends). Buffers, factors and the weight bookkeeping are shared.

Layouts are time-major with features before batch: ``x`` is ``(T, K, F, B)`` and the
hidden states ``(T, K, H, B)``, so every gate of a step is one contiguous block per
network.
``tests/nn/test_stacked_cells.py`` checks outputs and gradients against
``torch.nn.LSTM/GRU`` in double precision.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from tsrnn.nn import fused

__all__ = ["Workspace", "lstm_layer", "gru_layer"]


class Workspace:
    """Buffers (and per-step views of them) that one layer reuses from call to call.

    A training step's buffers are saved for its backward pass, so a second forward
    pass with gradients before that backward pass (``pending``) gets fresh buffers;
    forward passes without gradients use their own set.
    """

    def __init__(self) -> None:
        self._buffers: dict[tuple, torch.Tensor] = {}
        self._views: dict[tuple, tuple] = {}
        self.pending = False

    def buffer(self, name: str, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """The buffer ``name``, reallocated when the shape (networks still training,
        batch size) or dtype changes; only the latest one is kept."""
        found = self._buffers.get(name)
        if (
            found is None
            or tuple(found.shape) != shape
            or found.dtype != like.dtype
            or found.device != like.device
            # made under torch.inference_mode: read-only outside it
            or (found.is_inference() and not torch.is_inference_mode_enabled())
        ):
            found = self._buffers[name] = like.new_empty(shape)
            self._views.clear()
        return found

    def steps(self, name: str, tensor: torch.Tensor, rows: tuple[int, int] | None = None):
        """``tensor[t, :, a:b]`` for every step t (``rows=(a, b)``), cached."""
        key = (name, tensor.data_ptr(), tuple(tensor.shape), rows)
        found = self._views.get(key)
        if found is None:
            part = tensor if rows is None else tensor[:, :, rows[0] : rows[1]]
            found = self._views[key] = part.unbind(0)
        return found


def _workspace(ws: Workspace | None, needs_grad: bool) -> tuple[Workspace, str]:
    """The workspace a forward pass may write, and the prefix of the buffers that it
    returns or saves (training and evaluation passes keep separate ones)."""
    if ws is None or (needs_grad and ws.pending):
        ws = Workspace()
    return ws, "train" if needs_grad else "eval"


def _compiled(x: torch.Tensor) -> bool:
    """Whether this pass runs the compiled layers of :mod:`tsrnn.nn.fused`."""
    return (
        x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64) and fused.available()
    )


def _finish(ctx, ws: Workspace, hs: torch.Tensor, full: bool, needs_grad: bool, *saved):
    """The layer's output (a copy: ``hs`` is reused), and with gradients, what the
    backward pass needs; ``ws`` stays pending until that backward pass."""
    out = hs[1:].clone() if full else hs[-1].clone()
    if needs_grad:
        ws.pending = True
        ctx.ws, ctx.full = ws, full
        ctx.save_for_backward(*saved)
    return out


def _augmented(ws: Workspace, mode: str, x: torch.Tensor, hid: int) -> torch.Tensor:
    """The buffer ``[h_{t-1}; x_t; 1]`` of every step t: (T + 1, K, H + F + 1, B).

    Each step's gates are then one product ``W [h; x; 1]`` with ``W = [W_hh, W_ih, b]``:
    the input projection and the bias come with the recurrent product, and the backward
    pass gets all weight and bias gradients from one product a step. ``h_0 = 0`` is set
    here; step t writes ``h_t`` into rows ``:H`` of entry ``t + 1``.
    """
    steps, k, feat, b = x.shape
    aug = ws.buffer(mode + "aug", (steps + 1, k, hid + feat + 1, b), x)
    aug[0, :, :hid].zero_()
    aug[:steps, :, hid : hid + feat].copy_(x)
    aug[:, :, hid + feat].fill_(1.0)
    return aug


def _split_weight_grads(d_w: torch.Tensor, hid: int, feat: int):
    """``d [W_hh, W_ih, b]`` -> the gradients of ``W_hh``, ``W_ih`` and ``b``."""
    return (
        d_w[:, :, :hid].contiguous(),
        d_w[:, :, hid : hid + feat].contiguous(),
        d_w[:, :, hid + feat].contiguous(),
    )


def _lstm_steps(ws: Workspace, weights2, aug, gates, factors) -> None:
    """The LSTM forward recursion in torch operations (without the compiled layers):
    writes every step's gates, hidden state and, with ``factors``, backward factors."""
    steps, k, width, b = gates.shape
    hid = width // 4
    c, g, tc, gi, cf = (ws.buffer(f"tmp{j}", (k, hid, b), gates) for j in range(5))
    c.zero_()
    g_t, a_t = ws.steps("gates", gates), ws.steps("aug", aug)
    h_t = ws.steps("aug_h", aug, (0, hid))
    i_t, f_t, s_t, o_t = (ws.steps("gates", gates, (j * hid, (j + 1) * hid)) for j in range(4))
    needs_grad = factors is not None
    if needs_grad:
        per_dh, dh_dc, per_dc = factors
        pi_t, pf_t, pg_t = (ws.steps("per_dc", per_dc, (j * hid, (j + 1) * hid)) for j in range(3))
        per_dh_t, dh_dc_t = ws.steps("per_dh", per_dh), ws.steps("dh_dc", dh_dc)
    for t in range(steps):
        torch.bmm(weights2, a_t[t], out=g_t[t]).sigmoid_()
        i, f, o = i_t[t], f_t[t], o_t[t]
        torch.add(s_t[t], s_t[t], out=g).sub_(1)
        if needs_grad:
            torch.mul(f, c, out=cf)
            torch.addcmul(cf, cf, f, value=-1, out=pf_t[t])
            torch.mul(g, i, out=gi)
            torch.addcmul(gi, gi, i, value=-1, out=pi_t[t])
            torch.addcmul(i, gi, g, value=-1, out=pg_t[t])
            torch.addcmul(cf, i, g, out=c)
        else:
            c.mul_(f).addcmul_(i, g)
        h = torch.mul(o, torch.tanh(c, out=tc), out=h_t[t + 1])
        if needs_grad:
            torch.addcmul(o, h, tc, value=-1, out=dh_dc_t[t])
            torch.addcmul(h, h, o, value=-1, out=per_dh_t[t])


def _lstm_back_steps(ws: Workspace, grad, full: bool, back_w, saved, needs_x: bool):
    """The LSTM backward recursion in torch operations: the transposed weight gradient
    (K, H + F + 1, 4H) and, with ``needs_x``, every step's ``[dh; dx]``."""
    weights, gates, aug, per_dh, dh_dc, per_dc = saved
    steps, k, width, b = gates.shape
    hid = width // 4
    f_t = ws.steps("gates", gates, (hid, 2 * hid))
    dgates = ws.buffer("dgates", (k, width, b), gates)  # one step's gate gradients
    d_o = dgates[:, 3 * hid :]
    d_ifg = dgates.view(k, 4, hid, b)[:, :3]
    dhdc_t, per_dh_t = ws.steps("dh_dc", dh_dc), ws.steps("per_dh", per_dh)
    per_dc_t = ws.steps("per_dc3", per_dc.view(steps, k, 3, hid, b))
    a_t = ws.steps("aug", aug)
    dhx = None
    if needs_x:
        dhx = gates.new_empty(steps, k, back_w.shape[1], b)
    # summed step by step, while the step is in cache; transposed, (K, H + F + 1, 4H):
    # MKL's small products are faster with the long side last
    d_wt = weights.new_zeros(k, weights.shape[2], width)
    grads = grad.unbind(0) if full else None
    dh = grads[-1] if full else grad
    dc = torch.zeros_like(dh)
    dc_3 = dc.unsqueeze(1)
    for t in range(steps - 1, -1, -1):
        dc.addcmul_(dh, dhdc_t[t])
        torch.mul(dh, per_dh_t[t], out=d_o)
        torch.mul(per_dc_t[t], dc_3, out=d_ifg)
        d_wt.baddbmm_(a_t[t], dgates.transpose(1, 2))
        if needs_x:
            dh = torch.bmm(back_w, dgates, out=dhx[t])[:, :hid]
        elif t:
            dh = torch.bmm(back_w, dgates)
        if t:
            if grads is not None:
                dh = dh + grads[t - 1]
            dc.mul_(f_t[t])
    return d_wt, dhx


class _LSTMLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w_ih, b_ih, w_hh, b_hh, full, needs_grad, ws):
        steps, k, feat, b = x.shape
        hid = w_hh.shape[2]
        ws, mode = _workspace(ws, needs_grad)
        weights = torch.cat([w_hh, w_ih, (b_ih + b_hh).unsqueeze(2)], dim=2)
        # tanh(a) = 2 sigmoid(2a) - 1: with the g rows doubled, one sigmoid covers all
        # four gates of a step
        double = torch.ones(4 * hid, 1, dtype=x.dtype, device=x.device)
        double[2 * hid : 3 * hid] = 2.0
        weights2 = weights * double
        aug = _augmented(ws, mode, x, hid)
        gates = ws.buffer(mode + "gates", (steps, k, 4 * hid, b), x)
        factors = None
        if needs_grad:
            # each gate gradient of step t is the step's hidden (o) or cell (i, f, g)
            # gradient times a factor known now: computed while the step is in cache.
            # per_dh = o (1 - o) tanh(c), dh_dc = o (1 - tanh(c)^2), per_dc =
            # [i (1 - i) g; f (1 - f) c_prev; i (1 - g^2)]
            factors = (
                ws.buffer("per_dh", (steps, k, hid, b), x),
                ws.buffer("dh_dc", (steps, k, hid, b), x),
                ws.buffer("per_dc", (steps, k, 3 * hid, b), x),
            )
        if _compiled(x):
            unused = tuple(x.new_empty(0) for _ in range(3))  # no factors without gradients
            torch.ops.tsrnn_fused.lstm_forward(
                weights2, aug, gates, *(factors or unused), needs_grad
            )
        else:
            _lstm_steps(ws, weights2, aug, gates, factors)
        saved = (weights, gates, aug, *factors) if needs_grad else ()
        return _finish(ctx, ws, aug[:, :, :hid], full, needs_grad, *saved)

    @staticmethod
    @once_differentiable  # written with out= buffers: no graph of its own
    def backward(ctx, grad):
        weights, gates, aug, per_dh, dh_dc, per_dc = ctx.saved_tensors
        ws = ctx.ws
        steps, k, width, b = gates.shape
        hid = width // 4
        feat = aug.shape[2] - hid - 1
        needs_x = ctx.needs_input_grad[0]
        # W^T over the [h; x] columns (x's only when the input needs a gradient)
        back_w = weights[:, :, : hid + feat if needs_x else hid].transpose(1, 2).contiguous()
        if _compiled(gates):
            d_wt, dhx = torch.ops.tsrnn_fused.lstm_backward(
                grad.contiguous(), ctx.full, back_w, aug, gates, per_dh, dh_dc, per_dc, needs_x
            )
        else:
            d_wt, dhx = _lstm_back_steps(ws, grad, ctx.full, back_w, ctx.saved_tensors, needs_x)
        ws.pending = False
        d_w_hh, d_w_ih, d_b = _split_weight_grads(d_wt.transpose(1, 2), hid, feat)
        d_x = dhx[:, :, hid:] if needs_x else None
        # the two biases get separate tensors: a shared one would be scaled twice by an
        # in-place gradient clip
        return d_x, d_w_ih, d_b, d_w_hh, d_b.clone(), None, None, None


def _gru_steps(ws: Workspace, weights, aug, rz, per) -> None:
    """The GRU forward recursion in torch operations (without the compiled layers):
    writes every step's r, z, hidden state and, with ``per``, backward factors."""
    steps, k, width, b = rz.shape
    hid = width // 2
    needs_grad = per is not None
    pre = ws.buffer("pre", (k, 4 * hid, b), rz)  # one step's products
    pre_rz, hn, xn = pre[:, : 2 * hid], pre[:, 2 * hid : 3 * hid], pre[:, 3 * hid :]
    n, tmp = (ws.buffer(f"tmp{j}", (k, hid, b), rz) for j in range(2))
    a_t, h_t = ws.steps("aug", aug), ws.steps("aug_h", aug, (0, hid))
    rz_t = ws.steps("rz", rz)
    r_t, z_t = ws.steps("rz", rz, (0, hid)), ws.steps("rz", rz, (hid, 2 * hid))
    if needs_grad:
        p_r, p_z, p_nh, p_nx = (ws.steps("per", per, (j * hid, (j + 1) * hid)) for j in range(4))
    for t in range(steps):
        r, z = r_t[t], z_t[t]
        torch.bmm(weights, a_t[t], out=pre)
        torch.sigmoid(pre_rz, out=rz_t[t])
        torch.addcmul(xn, r, hn, out=n).tanh_()
        h = torch.lerp(n, h_t[t], z, out=h_t[t + 1])  # n + z (h_prev - n)
        if needs_grad:
            a_n = p_nx[t]  # n, input side: (1 - z)(1 - n^2) = (1 - z) - (1 - z) n^2
            torch.mul(n, n, out=tmp)
            torch.sub(1, z, out=a_n).addcmul_(a_n, tmp, value=-1)
            # n, recurrent side: a_n r; r: a_n hn r (1 - r) = (a_n r hn)(1 - r)
            torch.mul(a_n, r, out=p_nh[t])
            torch.mul(p_nh[t], hn, out=tmp)
            torch.addcmul(tmp, tmp, r, value=-1, out=p_r[t])
            # z: (h_prev - n) z (1 - z) = (h - n)(1 - z)
            torch.sub(h, n, out=tmp)
            torch.addcmul(tmp, tmp, z, value=-1, out=p_z[t])


def _gru_back_steps(ws: Workspace, grad, full: bool, back_w, saved, needs_x: bool):
    """The GRU backward recursion in torch operations: the transposed weight gradient
    (K, H + F + 1, 4H) and, with ``needs_x``, every step's ``[dh; dx]``."""
    weights, aug, per, rz = saved
    steps, k, width, b = per.shape
    hid = width // 4
    dpre = ws.buffer("dpre", (k, width, b), per)  # one step's product gradients
    dpre4 = dpre.view(k, 4, hid, b)
    per_t = ws.steps("per4", per.view(steps, k, 4, hid, b))
    z_t = ws.steps("rz", rz, (hid, 2 * hid))
    a_t = ws.steps("aug", aug)
    dhx = per.new_empty(steps, k, back_w.shape[1], b) if needs_x else None
    # summed step by step, while the step is in cache; transposed, (K, H + F + 1, 4H):
    # MKL's small products are faster with the long side last
    d_wt = weights.new_zeros(k, weights.shape[2], width)
    grads = grad.unbind(0) if full else None
    dh = grads[-1] if full else grad
    for t in range(steps - 1, -1, -1):
        torch.mul(per_t[t], dh.unsqueeze(1), out=dpre4)
        d_wt.baddbmm_(a_t[t], dpre.transpose(1, 2))
        if not (t or needs_x):
            break
        direct = dh * z_t[t]
        if grads is not None and t:
            direct += grads[t - 1]
        if needs_x:
            dh = torch.bmm(back_w, dpre, out=dhx[t])[:, :hid] + direct
        else:
            dh = torch.baddbmm(direct, back_w, dpre)
    return d_wt, dhx


class _GRULayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w_ih, b_ih, w_hh, b_hh, full, needs_grad, ws):
        steps, k, feat, b = x.shape
        hid = w_hh.shape[2]
        ws, mode = _workspace(ws, needs_grad)
        # one product a step gives r and z (both sides summed), and n's recurrent and
        # input sides apart (r scales only the recurrent one): rows [rz; n_h; n_x] of
        # [[W_hh_rz, W_ih_rz, b_rz], [W_hh_n, 0, b_hh_n], [0, W_ih_n, b_ih_n]]
        weights = x.new_zeros(k, 4 * hid, hid + feat + 1)
        weights[:, : 3 * hid, :hid] = w_hh
        weights[:, : 2 * hid, hid : hid + feat] = w_ih[:, : 2 * hid]
        weights[:, 3 * hid :, hid : hid + feat] = w_ih[:, 2 * hid :]
        weights[:, : 2 * hid, -1] = b_ih[:, : 2 * hid] + b_hh[:, : 2 * hid]
        weights[:, 2 * hid : 3 * hid, -1] = b_hh[:, 2 * hid :]
        weights[:, 3 * hid :, -1] = b_ih[:, 2 * hid :]
        aug = _augmented(ws, mode, x, hid)
        # r and z of every step (saved: z scales the direct path of the hidden gradient)
        rz = ws.buffer(mode + "rz", (steps, k, 2 * hid, b), x)
        per = None
        if needs_grad:
            # every gradient of step t's products is the step's hidden gradient times a
            # factor known now (computed while the step is in cache): r, z, n_h, n_x
            per = ws.buffer("per", (steps, k, 4 * hid, b), x)
        if _compiled(x):
            factors = x.new_empty(0) if per is None else per  # none without gradients
            torch.ops.tsrnn_fused.gru_forward(weights, aug, rz, factors, needs_grad)
        else:
            _gru_steps(ws, weights, aug, rz, per)
        saved = (weights, aug, per, rz) if needs_grad else ()
        return _finish(ctx, ws, aug[:, :, :hid], full, needs_grad, *saved)

    @staticmethod
    @once_differentiable  # written with out= buffers: no graph of its own
    def backward(ctx, grad):
        weights, aug, per, rz = ctx.saved_tensors
        ws = ctx.ws
        steps, k, width, b = per.shape
        hid = width // 4
        feat = aug.shape[2] - hid - 1
        needs_x = ctx.needs_input_grad[0]
        # W^T over the [h; x] columns (x's only when the input needs a gradient); the
        # zero blocks keep n_x out of h's gradient and n_h out of x's
        back_w = weights[:, :, : hid + feat if needs_x else hid].transpose(1, 2).contiguous()
        if _compiled(per):
            d_wt, dhx = torch.ops.tsrnn_fused.gru_backward(
                grad.contiguous(), ctx.full, back_w, aug, per, rz, needs_x
            )
        else:
            d_wt, dhx = _gru_back_steps(ws, grad, ctx.full, back_w, ctx.saved_tensors, needs_x)
        ws.pending = False
        d_w = d_wt.transpose(1, 2)
        n_h, n_x = slice(2 * hid, 3 * hid), slice(3 * hid, None)
        d_w_hh = d_w[:, : 3 * hid, :hid].contiguous()
        d_w_ih = torch.cat([d_w[:, : 2 * hid, hid:-1], d_w[:, n_x, hid:-1]], dim=1)
        d_b_ih = torch.cat([d_w[:, : 2 * hid, -1], d_w[:, n_x, -1]], dim=1)
        d_b_hh = torch.cat([d_w[:, : 2 * hid, -1], d_w[:, n_h, -1]], dim=1)
        d_x = dhx[:, :, hid:] if needs_x else None
        return d_x, d_w_ih, d_b_ih, d_w_hh, d_b_hh, None, None, None


def _needs_grad(*tensors: torch.Tensor) -> bool:
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def lstm_layer(x, w_ih, b_ih, w_hh, b_hh, full: bool, workspace: Workspace | None = None):
    """K LSTM layers (gate order i, f, g, o as ``torch.nn.LSTM``), from zero states.

    Parameters
    ----------
    x : torch.Tensor of shape (T, K, F, B)
        Inputs, time-major, features before batch.
    w_ih, b_ih, w_hh, b_hh : torch.Tensor
        Stacked weights: (K, 4H, F), (K, 4H), (K, 4H, H), (K, 4H).
    full : bool
        Return every step's hidden state (T, K, H, B) (for a layer below another),
        else only the last (K, H, B).
    workspace : Workspace, optional
        Buffers to reuse (one per layer); without one, fresh buffers.
    """
    needs = _needs_grad(x, w_ih, b_ih, w_hh, b_hh)
    return _LSTMLayer.apply(x, w_ih, b_ih, w_hh, b_hh, full, needs, workspace)


def gru_layer(x, w_ih, b_ih, w_hh, b_hh, full: bool, workspace: Workspace | None = None):
    """K GRU layers (gates r, z, n as ``torch.nn.GRU``), from zero states; arguments as
    :func:`lstm_layer`, with 3H in place of 4H."""
    needs = _needs_grad(x, w_ih, b_ih, w_hh, b_hh)
    return _GRULayer.apply(x, w_ih, b_ih, w_hh, b_hh, full, needs, workspace)
