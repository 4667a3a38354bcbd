// K stacked LSTM/GRU layers with each time step's elementwise work fused into a few loops.
//
// The same algorithm as tsrnn/nn/stacked_cells.py (which documents the layouts and
// the factors), compiled: each step is one batched GEMM (at::bmm_out) and a few passes
// over the step's gates (see kStreams), in place of ~15 separate torch operations
// dispatched from Python. Buffers come from the caller (the Python Workspace); per step
// only the GRU backward with an input gradient allocates (one small sum). Built on
// request by tsrnn/nn/fused.py (`tsrnn build-kernels`); without it the Python cells run.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <cmath>
#include <cstdint>
#include <tuple>

namespace {

// kStreams: each step's loops are split so that none touches more than ~8 arrays at
// once. A gate block is H * B floats apart from the next, 4 KB at the default H = 32,
// B = 32, so all the arrays of one loop map to the same L1 cache sets; past the 12
// ways of this L1 every access missed (one 13-array loop ran over twice as slow as
// torch's separate operations).

// exp in single precision, inlined so every gate loop vectorises without library calls
// (glibc's vector expf took a third of a forward pass): 2^(x log2 e) as 2^round-down
// times a degree-5 polynomial for the fraction (Cephes' coefficients), relative error
// ~2e-7, about float32 rounding. Double precision (the tests' reference) keeps std::exp.
inline float exp_approx(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float t = x * 1.44269504088896341f;
  const float whole = __builtin_floorf(t);
  const float fraction = t - whole;
  float p = 1.8775767e-3f;
  p = p * fraction + 8.9893397e-3f;
  p = p * fraction + 5.5826318e-2f;
  p = p * fraction + 2.4015361e-1f;
  p = p * fraction + 6.9315308e-1f;
  p = p * fraction + 9.9999994e-1f;
  const int32_t bits = (static_cast<int32_t>(whole) + 127) << 23;
  float scale;
  __builtin_memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline double exp_approx(double x) { return std::exp(x); }

template <typename S>
inline S sigmoid(S x) {
  return S(1) / (S(1) + exp_approx(-x));
}

// tanh through the exponential that the sigmoid vectorises anyway
template <typename S>
inline S tanh_via_sigmoid(S x) {
  return S(2) * sigmoid(S(2) * x) - S(1);
}

template <typename S>
S* ptr(const at::Tensor& t) {
  return t.data_ptr<S>();
}

void check(const at::Tensor& t, const char* name) {
  TORCH_CHECK(t.device().is_cpu(), name, " must be on the CPU");
  TORCH_CHECK(t.is_contiguous(), name, " must be contiguous");
}

// ---------------------------------------------------------------- LSTM
//
// weights2 (K, 4H, W) with the g rows doubled (one sigmoid covers all four gates);
// aug (T + 1, K, W, B) holds [h_{t-1}; x_t; 1] with h_0 = 0, rows :H of entry t + 1
// receive h_t; gates (T, K, 4H, B); with gradients, the factors per_dh, dh_dc (T, K, H, B)
// and per_dc (T, K, 3H, B).
template <typename S>
void lstm_forward_impl(const at::Tensor& weights2, at::Tensor& aug, at::Tensor& gates,
                       at::Tensor& per_dh, at::Tensor& dh_dc, at::Tensor& per_dc,
                       bool needs_grad) {
  const int64_t T = gates.size(0), K = gates.size(1), H = gates.size(2) / 4, B = gates.size(3);
  const int64_t W = aug.size(2), m = H * B;
  at::Tensor cell = at::zeros({K, m}, gates.options());
  S* c_all = ptr<S>(cell);
  for (int64_t t = 0; t < T; ++t) {
    at::Tensor g_t = gates[t];
    at::bmm_out(g_t, weights2, aug[t]);
    S* g_base = ptr<S>(g_t);
    S* h_base = ptr<S>(aug) + (t + 1) * K * W * B;
    for (int64_t k = 0; k < K; ++k) {
      S* __restrict__ g = g_base + k * 4 * m;
      S* __restrict__ c = c_all + k * m;
      S* __restrict__ h = h_base + k * W * B;
#pragma omp simd
      for (int64_t j = 0; j < 4 * m; ++j) g[j] = sigmoid(g[j]);
      const S* __restrict__ gi = g;
      const S* __restrict__ gf = g + m;
      const S* __restrict__ gs = g + 2 * m;
      const S* __restrict__ go = g + 3 * m;
      if (needs_grad) {
        const int64_t at_k = (t * K + k) * m;
        S* __restrict__ pdh = ptr<S>(per_dh) + at_k;
        S* __restrict__ dhc = ptr<S>(dh_dc) + at_k;
        S* __restrict__ pi = ptr<S>(per_dc) + 3 * at_k;
        S* __restrict__ pf = pi + m;
        S* __restrict__ pg = pi + 2 * m;
        // two passes of at most 8 streams each (see kStreams)
#pragma omp simd
        for (int64_t j = 0; j < m; ++j) {
          const S i = gi[j], f = gf[j], gg = S(2) * gs[j] - S(1);
          pf[j] = f * (S(1) - f) * c[j];
          pi[j] = i * (S(1) - i) * gg;
          pg[j] = i * (S(1) - gg * gg);
        }
#pragma omp simd
        for (int64_t j = 0; j < m; ++j) {
          const S o = go[j];
          const S cn = gf[j] * c[j] + gi[j] * (S(2) * gs[j] - S(1));
          const S tc = tanh_via_sigmoid(cn);
          c[j] = cn;
          h[j] = o * tc;
          dhc[j] = o * (S(1) - tc * tc);
          pdh[j] = o * (S(1) - o) * tc;
        }
      } else {
#pragma omp simd
        for (int64_t j = 0; j < m; ++j) {
          const S cn = gf[j] * c[j] + gi[j] * (S(2) * gs[j] - S(1));
          c[j] = cn;
          h[j] = go[j] * tanh_via_sigmoid(cn);
        }
      }
    }
  }
}

void lstm_forward(at::Tensor weights2, at::Tensor aug, at::Tensor gates, at::Tensor per_dh,
                  at::Tensor dh_dc, at::Tensor per_dc, bool needs_grad) {
  for (auto* t : {&weights2, &aug, &gates}) check(*t, "an LSTM buffer");
  if (needs_grad)
    for (auto* t : {&per_dh, &dh_dc, &per_dc}) check(*t, "an LSTM factor buffer");
  if (gates.scalar_type() == at::kDouble)
    lstm_forward_impl<double>(weights2, aug, gates, per_dh, dh_dc, per_dc, needs_grad);
  else
    lstm_forward_impl<float>(weights2, aug, gates, per_dh, dh_dc, per_dc, needs_grad);
}

// grad: (K, H, B) for the last step only, or (T, K, H, B) for every step (full);
// back_w (K, H or H + F, 4H) = W^T over the [h; x] columns. Returns d [W_hh, W_ih, b]
// transposed, (K, W, 4H), and with needs_x every step's [dh; dx] (T, K, H + F, B).
template <typename S>
std::tuple<at::Tensor, at::Tensor> lstm_backward_impl(const at::Tensor& grad, bool full,
                                                      const at::Tensor& back_w,
                                                      const at::Tensor& aug,
                                                      const at::Tensor& gates,
                                                      const at::Tensor& per_dh,
                                                      const at::Tensor& dh_dc,
                                                      const at::Tensor& per_dc, bool needs_x) {
  const int64_t T = gates.size(0), K = gates.size(1), H = gates.size(2) / 4, B = gates.size(3);
  const int64_t W = aug.size(2), m = H * B, rows = back_w.size(1);
  auto options = gates.options();
  at::Tensor d_wt = at::zeros({K, W, 4 * H}, options);
  at::Tensor dgates = at::empty({K, 4 * H, B}, options);
  at::Tensor dgates_t = dgates.transpose(1, 2);
  at::Tensor cell = at::zeros({K, m}, options);
  at::Tensor dhx = needs_x ? at::empty({T, K, rows, B}, options) : at::empty({0}, options);
  at::Tensor dh_next = needs_x ? at::empty({0}, options) : at::empty({K, H, B}, options);
  S* dc_all = ptr<S>(cell);
  // step t reads its hidden gradient from src (k-stride src_stride) plus, when full,
  // that step's own output gradient
  const S* src = ptr<S>(grad) + (full ? (T - 1) * K * m : 0);
  int64_t src_stride = m;
  for (int64_t t = T - 1; t >= 0; --t) {
    const S* extra = (full && t < T - 1) ? ptr<S>(grad) + t * K * m : nullptr;
    const int64_t at_t = t * K * m;
    for (int64_t k = 0; k < K; ++k) {
      const S* __restrict__ dh = src + k * src_stride;
      const S* __restrict__ ex = extra ? extra + k * m : nullptr;
      S* __restrict__ dc = dc_all + k * m;
      S* __restrict__ dg = ptr<S>(dgates) + k * 4 * m;
      const S* __restrict__ dhc = ptr<S>(dh_dc) + at_t + k * m;
      const S* __restrict__ pdh = ptr<S>(per_dh) + at_t + k * m;
      const S* __restrict__ pi = ptr<S>(per_dc) + 3 * (at_t + k * m);
      const S* __restrict__ f = ptr<S>(gates) + 4 * (at_t + k * m) + m;
      // four passes of at most 7 streams each (see kStreams)
      if (ex) {
#pragma omp simd
        for (int64_t j = 0; j < m; ++j) dc[j] += (dh[j] + ex[j]) * dhc[j];
#pragma omp simd
        for (int64_t j = 0; j < m; ++j) dg[3 * m + j] = (dh[j] + ex[j]) * pdh[j];
      } else {
#pragma omp simd
        for (int64_t j = 0; j < m; ++j) dc[j] += dh[j] * dhc[j];
#pragma omp simd
        for (int64_t j = 0; j < m; ++j) dg[3 * m + j] = dh[j] * pdh[j];
      }
#pragma omp simd
      for (int64_t j = 0; j < m; ++j) {
        dg[j] = pi[j] * dc[j];
        dg[m + j] = pi[m + j] * dc[j];
        dg[2 * m + j] = pi[2 * m + j] * dc[j];
      }
#pragma omp simd
      for (int64_t j = 0; j < m; ++j) dc[j] *= f[j];
    }
    d_wt.baddbmm_(aug[t], dgates_t);
    if (needs_x) {
      at::Tensor out = dhx[t];
      at::bmm_out(out, back_w, dgates);
      src = ptr<S>(out);
      src_stride = rows * B;
    } else if (t) {
      at::bmm_out(dh_next, back_w, dgates);
      src = ptr<S>(dh_next);
      src_stride = m;
    }
  }
  return {d_wt, dhx};
}

std::tuple<at::Tensor, at::Tensor> lstm_backward(at::Tensor grad, bool full, at::Tensor back_w,
                                                 at::Tensor aug, at::Tensor gates,
                                                 at::Tensor per_dh, at::Tensor dh_dc,
                                                 at::Tensor per_dc, bool needs_x) {
  for (auto* t : {&grad, &back_w, &aug, &gates, &per_dh, &dh_dc, &per_dc})
    check(*t, "an LSTM gradient buffer");
  if (gates.scalar_type() == at::kDouble)
    return lstm_backward_impl<double>(grad, full, back_w, aug, gates, per_dh, dh_dc, per_dc,
                                      needs_x);
  return lstm_backward_impl<float>(grad, full, back_w, aug, gates, per_dh, dh_dc, per_dc,
                                   needs_x);
}

// ---------------------------------------------------------------- GRU
//
// weights (K, 4H, W): rows [rz; n_h; n_x] as stacked_cells builds them; aug as for the
// LSTM; rz (T, K, 2H, B) receives r and z; with gradients, per (T, K, 4H, B) the factors
// of [r; z; n_h; n_x].
template <typename S>
void gru_forward_impl(const at::Tensor& weights, at::Tensor& aug, at::Tensor& rz,
                      at::Tensor& per, bool needs_grad) {
  const int64_t T = rz.size(0), K = rz.size(1), H = rz.size(2) / 2, B = rz.size(3);
  const int64_t W = aug.size(2), m = H * B;
  at::Tensor pre = at::empty({K, 4 * H, B}, rz.options());
  at::Tensor candidate = at::empty({m}, rz.options());  // one network's n at a step
  for (int64_t t = 0; t < T; ++t) {
    at::bmm_out(pre, weights, aug[t]);
    const S* h_prev_base = ptr<S>(aug) + t * K * W * B;
    S* h_base = ptr<S>(aug) + (t + 1) * K * W * B;
    for (int64_t k = 0; k < K; ++k) {
      const S* __restrict__ p = ptr<S>(pre) + k * 4 * m;
      const S* __restrict__ hp = h_prev_base + k * W * B;
      S* __restrict__ h = h_base + k * W * B;
      S* __restrict__ r_out = ptr<S>(rz) + 2 * ((t * K + k) * m);
      S* __restrict__ z_out = r_out + m;
      S* __restrict__ q = needs_grad ? ptr<S>(per) + 4 * ((t * K + k) * m) : nullptr;
      S* __restrict__ n = ptr<S>(candidate);
#pragma omp simd
      for (int64_t j = 0; j < m; ++j) {
        r_out[j] = sigmoid(p[j]);
        z_out[j] = sigmoid(p[m + j]);
      }
#pragma omp simd
      for (int64_t j = 0; j < m; ++j) {
        const S nj = tanh_via_sigmoid(p[3 * m + j] + r_out[j] * p[2 * m + j]);
        n[j] = nj;
        h[j] = nj + z_out[j] * (hp[j] - nj);
      }
      if (!needs_grad) continue;
#pragma omp simd
      for (int64_t j = 0; j < m; ++j) {
        const S r = r_out[j], nj = n[j];
        const S a_n = (S(1) - z_out[j]) * (S(1) - nj * nj);
        const S p_nh = a_n * r;
        q[j] = p_nh * p[2 * m + j] * (S(1) - r);
        q[2 * m + j] = p_nh;
        q[3 * m + j] = a_n;
      }
#pragma omp simd
      for (int64_t j = 0; j < m; ++j) q[m + j] = (h[j] - n[j]) * (S(1) - z_out[j]);
    }
  }
}

void gru_forward(at::Tensor weights, at::Tensor aug, at::Tensor rz, at::Tensor per,
                 bool needs_grad) {
  for (auto* t : {&weights, &aug, &rz}) check(*t, "a GRU buffer");
  if (needs_grad) check(per, "the GRU factor buffer");
  if (rz.scalar_type() == at::kDouble)
    gru_forward_impl<double>(weights, aug, rz, per, needs_grad);
  else
    gru_forward_impl<float>(weights, aug, rz, per, needs_grad);
}

// grad and back_w as for the LSTM (back_w (K, H or H + F, 4H)); returns d_wt (K, W, 4H)
// and with needs_x every step's [dh; dx].
template <typename S>
std::tuple<at::Tensor, at::Tensor> gru_backward_impl(const at::Tensor& grad, bool full,
                                                     const at::Tensor& back_w,
                                                     const at::Tensor& aug,
                                                     const at::Tensor& per,
                                                     const at::Tensor& rz, bool needs_x) {
  const int64_t T = per.size(0), K = per.size(1), H = per.size(2) / 4, B = per.size(3);
  const int64_t W = aug.size(2), m = H * B, rows = back_w.size(1);
  auto options = per.options();
  at::Tensor d_wt = at::zeros({K, W, 4 * H}, options);
  at::Tensor dpre = at::empty({K, 4 * H, B}, options);
  at::Tensor dpre_t = dpre.transpose(1, 2);
  at::Tensor direct = at::empty({K, H, B}, options);
  at::Tensor dhx = needs_x ? at::empty({T, K, rows, B}, options) : at::empty({0}, options);
  at::Tensor dh_next = needs_x ? at::empty({0}, options) : at::empty({K, H, B}, options);
  const S* src = ptr<S>(grad) + (full ? (T - 1) * K * m : 0);
  for (int64_t t = T - 1; t >= 0; --t) {
    const S* own = (full && t) ? ptr<S>(grad) + (t - 1) * K * m : nullptr;
    for (int64_t k = 0; k < K; ++k) {
      const S* __restrict__ dh = src + k * m;
      const S* __restrict__ q = ptr<S>(per) + 4 * ((t * K + k) * m);
      const S* __restrict__ z = ptr<S>(rz) + 2 * ((t * K + k) * m) + m;
      const S* __restrict__ ow = own ? own + k * m : nullptr;
      S* __restrict__ dp = ptr<S>(dpre) + k * 4 * m;
      S* __restrict__ dir = ptr<S>(direct) + k * m;
#pragma omp simd
      for (int64_t j = 0; j < m; ++j) {
        dp[j] = q[j] * dh[j];
        dp[m + j] = q[m + j] * dh[j];
      }
#pragma omp simd
      for (int64_t j = 0; j < m; ++j) {
        dp[2 * m + j] = q[2 * m + j] * dh[j];
        dp[3 * m + j] = q[3 * m + j] * dh[j];
      }
      if (ow) {
#pragma omp simd
        for (int64_t j = 0; j < m; ++j) dir[j] = dh[j] * z[j] + ow[j];
      } else {
#pragma omp simd
        for (int64_t j = 0; j < m; ++j) dir[j] = dh[j] * z[j];
      }
    }
    d_wt.baddbmm_(aug[t], dpre_t);
    if (!(t || needs_x)) break;
    if (needs_x) {
      at::Tensor out = dhx[t];
      at::bmm_out(out, back_w, dpre);
      if (t == 0) break;
      // the next step reads [dh; dx]'s dh rows plus the direct path; dhx keeps the
      // product alone, as the Python cell's does
      dh_next = at::add(out.narrow(1, 0, H), direct);
    } else {
      at::baddbmm_out(dh_next, direct, back_w, dpre);
    }
    src = ptr<S>(dh_next);
  }
  return {d_wt, dhx};
}

std::tuple<at::Tensor, at::Tensor> gru_backward(at::Tensor grad, bool full, at::Tensor back_w,
                                                at::Tensor aug, at::Tensor per, at::Tensor rz,
                                                bool needs_x) {
  for (auto* t : {&grad, &back_w, &aug, &per, &rz}) check(*t, "a GRU gradient buffer");
  if (per.scalar_type() == at::kDouble)
    return gru_backward_impl<double>(grad, full, back_w, aug, per, rz, needs_x);
  return gru_backward_impl<float>(grad, full, back_w, aug, per, rz, needs_x);
}

}  // namespace

TORCH_LIBRARY(tsrnn_fused, m) {
  m.def(
      "lstm_forward(Tensor weights2, Tensor(a!) aug, Tensor(b!) gates, Tensor(c!) per_dh, "
      "Tensor(d!) dh_dc, Tensor(e!) per_dc, bool needs_grad) -> ()");
  m.def(
      "lstm_backward(Tensor grad, bool full, Tensor back_w, Tensor aug, Tensor gates, "
      "Tensor per_dh, Tensor dh_dc, Tensor per_dc, bool needs_x) -> (Tensor, Tensor)");
  m.def(
      "gru_forward(Tensor weights, Tensor(a!) aug, Tensor(b!) rz, Tensor(c!) per, "
      "bool needs_grad) -> ()");
  m.def(
      "gru_backward(Tensor grad, bool full, Tensor back_w, Tensor aug, Tensor per, Tensor rz, "
      "bool needs_x) -> (Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(tsrnn_fused, CPU, m) {
  m.impl("lstm_forward", &lstm_forward);
  m.impl("lstm_backward", &lstm_backward);
  m.impl("gru_forward", &gru_forward);
  m.impl("gru_backward", &gru_backward);
}
