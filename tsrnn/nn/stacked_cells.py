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
- the weight gradients are summed step by step in the backward pass, while each step's
  gate gradients are in cache.

Layouts are time-major with features before batch: ``x`` is ``(T, K, F, B)`` and the
hidden states ``(T, K, H, B)``, so every gate of a step is one contiguous block per
network and the recurrent product is ``W_hh @ h`` for all K networks in one batched GEMM.
``tests/nn/test_stacked_cells.py`` checks outputs and gradients against
``torch.nn.LSTM/GRU`` in double precision.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

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


def _finish(ctx, ws: Workspace, hs: torch.Tensor, full: bool, needs_grad: bool, *saved):
    """The layer's output (a copy: ``hs`` is reused), and with gradients, what the
    backward pass needs; ``ws`` stays pending until that backward pass."""
    out = hs[1:].clone() if full else hs[-1].clone()
    if needs_grad:
        ws.pending = True
        ctx.ws, ctx.full = ws, full
        ctx.save_for_backward(*saved)
    return out


def _project(x, w_ih, bias, out) -> torch.Tensor:
    """``w_ih x + bias`` for every step: (T, K, F, B) -> (T, K, G, B) into ``out``."""
    torch.matmul(w_ih, x, out=out)
    return out.add_(bias.unsqueeze(2))


def _input_grads(dpre, x, w_ih, needs_x: bool):
    """Gradients of ``x`` (or None), ``w_ih`` and the input bias from ``dpre`` (T, K, G, B)."""
    d_x = torch.matmul(w_ih.transpose(1, 2), dpre) if needs_x else None
    d_w = torch.matmul(dpre, x.transpose(2, 3)).sum(0)
    return d_x, d_w, dpre.sum(0).sum(2)


class _LSTMLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w_ih, b_ih, w_hh, b_hh, full, needs_grad, ws):
        steps, k, _, b = x.shape
        hid = w_hh.shape[2]
        ws, mode = _workspace(ws, needs_grad)
        # tanh(a) = 2 sigmoid(2a) - 1: with the g rows doubled, one sigmoid covers all
        # four gates of a step
        double = torch.ones(4 * hid, 1, dtype=x.dtype, device=x.device)
        double[2 * hid : 3 * hid] = 2.0
        w_hh2 = w_hh * double
        gates = ws.buffer(mode + "gates", (steps, k, 4 * hid, b), x)
        _project(x, w_ih * double, (b_ih + b_hh) * double[:, 0], gates)
        hs = ws.buffer(mode + "hs", (steps + 1, k, hid, b), x)
        hs[0].zero_()
        c, g, tc, gi, cf = (ws.buffer(f"tmp{j}", (k, hid, b), x) for j in range(5))
        c.zero_()
        g_t, h_t = ws.steps("gates", gates), ws.steps("hs", hs)
        i_t, f_t, s_t, o_t = (ws.steps("gates", gates, (j * hid, (j + 1) * hid)) for j in range(4))
        if needs_grad:
            # each gate gradient of step t is the step's hidden (o) or cell (i, f, g)
            # gradient times a factor known now: computed while the step is in cache
            per_dh = ws.buffer("per_dh", (steps, k, hid, b), x)  # o (1 - o) tanh(c)
            dh_dc = ws.buffer("dh_dc", (steps, k, hid, b), x)  # o (1 - tanh(c)^2)
            per_dc = ws.buffer("per_dc", (steps, k, 3 * hid, b), x)
            # i (1 - i) g, f (1 - f) c_prev, i (1 - g^2)
            pi_t, pf_t, pg_t = (
                ws.steps("per_dc", per_dc, (j * hid, (j + 1) * hid)) for j in range(3)
            )
            per_dh_t, dh_dc_t = ws.steps("per_dh", per_dh), ws.steps("dh_dc", dh_dc)
        for t in range(steps):
            g_t[t].baddbmm_(w_hh2, h_t[t]).sigmoid_()
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
        saved = (x, w_ih, w_hh, gates, hs, per_dh, dh_dc, per_dc) if needs_grad else ()
        return _finish(ctx, ws, hs, full, needs_grad, *saved)

    @staticmethod
    @once_differentiable  # written with out= buffers: no graph of its own
    def backward(ctx, grad):
        x, w_ih, w_hh, gates, hs, per_dh, dh_dc, per_dc = ctx.saved_tensors
        ws = ctx.ws
        steps, k, width, b = gates.shape
        hid = width // 4
        f_t = ws.steps("gates", gates, (hid, 2 * hid))
        dpre = ws.buffer("dpre", (steps, k, width, b), x)
        d_t = ws.steps("dpre", dpre)
        d_o = ws.steps("dpre", dpre, (3 * hid, 4 * hid))
        d_ifg = ws.steps("dpre3", dpre.view(steps, k, 4, hid, b), (0, 3))
        dhdc_t, per_dh_t = ws.steps("dh_dc", dh_dc), ws.steps("per_dh", per_dh)
        per_dc_t = ws.steps("per_dc3", per_dc.view(steps, k, 3, hid, b))
        h_tr = ws.steps("hs_tr", hs.transpose(2, 3))
        d_w_hh = torch.zeros_like(w_hh)  # summed step by step, while dpre_t is in cache
        w_hh_t = w_hh.transpose(1, 2).contiguous()
        grads = grad.unbind(0) if ctx.full else None
        dh = grads[-1] if ctx.full else grad
        dc = torch.zeros_like(dh)
        dc_3 = dc.unsqueeze(1)
        for t in range(steps - 1, -1, -1):
            dc.addcmul_(dh, dhdc_t[t])
            torch.mul(dh, per_dh_t[t], out=d_o[t])
            torch.mul(per_dc_t[t], dc_3, out=d_ifg[t])
            d_w_hh.baddbmm_(d_t[t], h_tr[t])
            if t:
                if grads is None:
                    dh = torch.bmm(w_hh_t, d_t[t])
                else:
                    dh = torch.baddbmm(grads[t - 1], w_hh_t, d_t[t])
                dc.mul_(f_t[t])
        d_x, d_w_ih, d_b = _input_grads(dpre, x, w_ih, ctx.needs_input_grad[0])
        ws.pending = False
        # the two biases get separate tensors: a shared one would be scaled twice by an
        # in-place gradient clip
        return d_x, d_w_ih, d_b, d_w_hh, d_b.clone(), None, None, None


class _GRULayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w_ih, b_ih, w_hh, b_hh, full, needs_grad, ws):
        steps, k, _, b = x.shape
        hid = w_hh.shape[2]
        ws, mode = _workspace(ws, needs_grad)
        xs = _project(x, w_ih, b_ih, ws.buffer(mode + "xs", (steps, k, 3 * hid, b), x))
        hs = ws.buffer(mode + "hs", (steps + 1, k, hid, b), x)
        hs[0].zero_()
        hh = ws.buffer("hh", (k, 3 * hid, b), x)  # W_hh h_{t-1} + b_hh
        # r and z of every step (saved: z scales the direct path of the hidden gradient)
        rz = ws.buffer(mode + "rz", (steps, k, 2 * hid, b), x)
        n, tmp = (ws.buffer(f"tmp{j}", (k, hid, b), x) for j in range(2))
        b_hh = b_hh.unsqueeze(2)
        h_t, rz_t = ws.steps("hs", hs), ws.steps("rz", rz)
        r_t, z_t = ws.steps("rz", rz, (0, hid)), ws.steps("rz", rz, (hid, 2 * hid))
        x_rz, x_n = ws.steps("xs", xs, (0, 2 * hid)), ws.steps("xs", xs, (2 * hid, 3 * hid))
        hh_rz, hn = hh[:, : 2 * hid], hh[:, 2 * hid :]
        if needs_grad:
            # every gate gradient of step t is the step's hidden gradient times a factor
            # known now (computed while the step is in cache): input side r, z, n;
            # recurrent side r, z and n times r
            per_x = ws.buffer("per_x", (steps, k, 3 * hid, b), x)
            per_h = ws.buffer("per_h", (steps, k, 3 * hid, b), x)
            px_r, px_z, a_n_t = (
                ws.steps("per_x", per_x, (j * hid, (j + 1) * hid)) for j in range(3)
            )
            ph_rz = ws.steps("per_h", per_h, (0, 2 * hid))
            px_rz = ws.steps("per_x", per_x, (0, 2 * hid))
            ph_n = ws.steps("per_h", per_h, (2 * hid, 3 * hid))
        for t in range(steps):
            r, z = r_t[t], z_t[t]
            torch.baddbmm(b_hh, w_hh, h_t[t], out=hh)
            torch.add(x_rz[t], hh_rz, out=rz_t[t]).sigmoid_()
            torch.addcmul(x_n[t], r, hn, out=n).tanh_()
            h = torch.lerp(n, h_t[t], z, out=h_t[t + 1])  # n + z (h_prev - n)
            if needs_grad:
                a_n = a_n_t[t]  # n, input side: (1 - z)(1 - n^2) = (1 - z) - (1 - z) n^2
                torch.mul(n, n, out=tmp)
                torch.sub(1, z, out=a_n).addcmul_(a_n, tmp, value=-1)
                # n, recurrent side: a_n r; r: a_n hn r (1 - r) = (a_n r hn)(1 - r)
                torch.mul(a_n, r, out=ph_n[t])
                torch.mul(ph_n[t], hn, out=tmp)
                torch.addcmul(tmp, tmp, r, value=-1, out=px_r[t])
                # z: (h_prev - n) z (1 - z) = (h - n)(1 - z)
                torch.sub(h, n, out=tmp)
                torch.addcmul(tmp, tmp, z, value=-1, out=px_z[t])
                ph_rz[t].copy_(px_rz[t])
        saved = (x, w_ih, w_hh, hs, per_x, per_h, rz) if needs_grad else ()
        return _finish(ctx, ws, hs, full, needs_grad, *saved)

    @staticmethod
    @once_differentiable  # written with out= buffers: no graph of its own
    def backward(ctx, grad):
        x, w_ih, w_hh, hs, per_x, per_h, rz = ctx.saved_tensors
        ws = ctx.ws
        steps, k, width, b = per_x.shape
        hid = width // 3
        d_x = ws.buffer("d_x", (steps, k, width, b), x)
        d_h = ws.buffer("d_h", (steps, k, width, b), x)
        dh_t = ws.steps("d_h", d_h)
        dx3_t = ws.steps("d_x3", d_x.view(steps, k, 3, hid, b))
        dh3_t = ws.steps("d_h3", d_h.view(steps, k, 3, hid, b))
        per_x_t = ws.steps("per_x3", per_x.view(steps, k, 3, hid, b))
        per_h_t = ws.steps("per_h3", per_h.view(steps, k, 3, hid, b))
        z_t = ws.steps("rz", rz, (hid, 2 * hid))
        h_tr = ws.steps("hs_tr", hs.transpose(2, 3))
        d_w_hh = torch.zeros_like(w_hh)  # summed step by step, while d_h_t is in cache
        w_hh_t = w_hh.transpose(1, 2).contiguous()
        grads = grad.unbind(0) if ctx.full else None
        dh = grads[-1] if ctx.full else grad
        for t in range(steps - 1, -1, -1):
            dh_3 = dh.unsqueeze(1)
            torch.mul(per_x_t[t], dh_3, out=dx3_t[t])
            torch.mul(per_h_t[t], dh_3, out=dh3_t[t])
            d_w_hh.baddbmm_(dh_t[t], h_tr[t])
            if t:
                direct = dh * z_t[t]
                if grads is not None:
                    direct += grads[t - 1]
                dh = torch.baddbmm(direct, w_hh_t, dh_t[t])
        dx_in, d_w_ih, d_b_ih = _input_grads(d_x, x, w_ih, ctx.needs_input_grad[0])
        d_b_hh = d_h.sum(0).sum(2)
        ws.pending = False
        return dx_in, d_w_ih, d_b_ih, d_w_hh, d_b_hh, None, None, None


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
