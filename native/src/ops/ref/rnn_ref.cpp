// Reference recurrent layers: the specification of fathom_rnn_forward and
// fathom_rnn_backward, written as the equations of fathom.h one time step at
// a time over contiguous buffers in PyTorch's weight layout. Sums accumulate
// in double and every stored value (h, c, activated gates) is rounded to the
// tensor's dtype once, so the f32 kernel is a fair oracle for oneDNN. OpenMP
// splits only loops whose iterations write disjoint outputs (each element is
// one sum in a fixed order), so results do not depend on the thread count.
// Not fast: oneDNN (ops/dnnl/rnn_dnnl.cpp) is the fast path.
//
// Notation: x_t the layer input at time t (N,I_k); h', c' the state of the
// previous step in the direction of travel (t-1 forward, t+1 reverse; h0/c0
// or zeros at the first step); rows of a (G*H)-wide gate vector in PyTorch's
// order; sigma the logistic function.
//
// Workspace payload (training), elements of T, per layer k:
//   out_k (T,N,D*H)           the layer's output, for k < L-1 (dst for the last)
//   per direction:
//     act (T,N,G*H)           activated gates: RNN h; LSTM i,f,g,o; GRU r,z,n
//     c   (T,N,H)             LSTM cell states
//     m   (T,N,H)             GRU_PYTORCH: h' W_hn^T + b_hn
// Backward reads only these, the inputs and the forward's outputs.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/rnn.h"

namespace fathom {

namespace {

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// Where the parts of one layer live in the workspace payload (in elements).
struct RefLayout {
    const RnnParams& p;
    int64_t gates() const { return p.T * p.N * p.G * p.H; }
    int64_t state() const { return p.T * p.N * p.H; }
    int64_t per_direction() const {
        return gates() + (p.lstm() ? state() : 0) +
               (p.mode == FATHOM_RNN_GRU_PYTORCH ? state() : 0);
    }
    int64_t layer_output(int64_t k) const { return k < p.L - 1 ? p.T * p.N * p.D * p.H : 0; }
    int64_t layer(int64_t k) const { return layer_output(k) + p.D * per_direction(); }
    int64_t layer_start(int64_t k) const {
        int64_t off = 0;
        for (int64_t j = 0; j < k; ++j) off += layer(j);
        return off;
    }
    int64_t total() const { return layer_start(p.L); }
    int64_t act(int64_t k, int64_t d) const {
        return layer_start(k) + layer_output(k) + d * per_direction();
    }
    int64_t cell(int64_t k, int64_t d) const { return act(k, d) + gates(); }
    int64_t lin(int64_t k, int64_t d) const { return cell(k, d) + (p.lstm() ? state() : 0); }
};

// out(n, r) = b[r] + sum_j x(n, j) * w[r*K + j] for r < R: a slice of rows of
// x W^T + b, with W (R,K) row-major (rows already offset) and b nullable.
template <typename X, typename W>
void affine(int64_t N, int64_t R, int64_t K, const X* x, int64_t ldx, const W* w, const W* b,
            double* out, int64_t ldo) {
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; ++n)
        for (int64_t r = 0; r < R; ++r) {
            double acc = b ? static_cast<double>(b[r]) : 0.0;
            for (int64_t j = 0; j < K; ++j)
                acc += static_cast<double>(x[n * ldx + j]) * static_cast<double>(w[r * K + j]);
            out[n * ldo + r] = acc;
        }
}

// dw(r, j) += sum_n da(n, r) * x(n, j): the weight gradient of out = x W^T.
template <typename X>
void add_weight_grad(int64_t N, int64_t R, int64_t K, const double* da, int64_t ldda, const X* x,
                     int64_t ldx, double* dw) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < R; ++r)
        for (int64_t j = 0; j < K; ++j) {
            double acc = 0.0;
            for (int64_t n = 0; n < N; ++n)
                acc += da[n * ldda + r] * static_cast<double>(x[n * ldx + j]);
            dw[r * K + j] += acc;
        }
}

// db(r) += sum_n da(n, r).
void add_bias_grad(int64_t N, int64_t R, const double* da, int64_t ldda, double* db) {
    for (int64_t r = 0; r < R; ++r) {
        double acc = 0.0;
        for (int64_t n = 0; n < N; ++n) acc += da[n * ldda + r];
        db[r] += acc;
    }
}

// dx(n, j) += sum_r da(n, r) * w[r*K + j]: the input gradient of out = x W^T.
template <typename W>
void add_input_grad(int64_t N, int64_t R, int64_t K, const double* da, int64_t ldda, const W* w,
                    double* dx, int64_t lddx) {
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; ++n)
        for (int64_t j = 0; j < K; ++j) {
            double acc = 0.0;
            for (int64_t r = 0; r < R; ++r)
                acc += da[n * ldda + r] * static_cast<double>(w[r * K + j]);
            dx[n * lddx + j] += acc;
        }
}

// One layer and direction's weights and their gradient accumulators.
template <typename T>
struct Cell {
    const T *w_ih, *w_hh, *b_ih, *b_hh;
    std::vector<double> dw_ih, dw_hh, db_ih, db_hh;  // empty unless weight gradients are wanted
};

template <typename T>
class Reference {
public:
    Reference(const RnnParams& p, const RnnTensors<T>& t, T* ws)
        : p_(p), t_(t), ws_(ws), lay_{p}, GH_(p.G * p.H), DH_(p.D * p.H), zeros_(p.N * p.H) {}

    void forward() {
        for (int64_t k = 0; k < p_.L; ++k)
            for (int64_t d = 0; d < p_.D; ++d) forward_layer(k, d);
    }

    void backward() {
        // d_out: dL/d(output of layer k), (T,N,D*H); d_in: dL/d(its input).
        std::vector<double> d_out(t_.diff_dst, t_.diff_dst + p_.T * p_.N * DH_);
        for (int64_t k = p_.L - 1; k >= 0; --k) {
            std::vector<double> d_in(p_.T * p_.N * p_.input_of(k), 0.0);
            for (int64_t d = 0; d < p_.D; ++d) backward_layer(k, d, d_out, d_in);
            d_out.swap(d_in);
        }
        if (t_.diff_src)
            for (size_t i = 0; i < d_out.size(); ++i) t_.diff_src[i] = static_cast<T>(d_out[i]);
    }

private:
    Cell<T> cell(int64_t k, int64_t d, bool grads) const {
        const T* const* w = t_.weights + 4 * (k * p_.D + d);
        Cell<T> c{w[0], w[1], w[2], w[3], {}, {}, {}, {}};
        if (grads) {
            c.dw_ih.assign(GH_ * p_.input_of(k), 0.0);
            c.dw_hh.assign(GH_ * p_.H, 0.0);
            c.db_ih.assign(GH_, 0.0);
            c.db_hh.assign(GH_, 0.0);
        }
        return c;
    }

    // Inputs and outputs of layer k: src or the output of the layer below; dst
    // or this layer's workspace part.
    const T* layer_input(int64_t k) const {
        return k == 0 ? t_.src : ws_ + lay_.layer_start(k - 1);
    }
    T* layer_output(int64_t k) const {
        return k == p_.L - 1 ? t_.dst : ws_ + lay_.layer_start(k);
    }
    int64_t time_of(int64_t d, int64_t step) const { return d == 0 ? step : p_.T - 1 - step; }
    int64_t state_row(int64_t k, int64_t d) const { return (k * p_.D + d) * p_.N * p_.H; }

    // h' of step `step` (leading dimension in *ld): h0, zeros or the output at
    // the previous time of this direction.
    const T* prev_h(int64_t k, int64_t d, int64_t step, int64_t* ld) const {
        if (step > 0) {
            *ld = DH_;
            const int64_t tp = time_of(d, step - 1);
            return layer_output(k) + tp * p_.N * DH_ + d * p_.H;
        }
        *ld = p_.H;
        return t_.src_iter ? t_.src_iter + state_row(k, d) : zeros();
    }
    const T* prev_c(int64_t k, int64_t d, int64_t step) const {
        if (step > 0) return ws_ + lay_.cell(k, d) + time_of(d, step - 1) * p_.N * p_.H;
        return t_.src_iter_c ? t_.src_iter_c + state_row(k, d) : zeros();
    }
    const T* zeros() const { return zeros_.data(); }

    void forward_layer(int64_t k, int64_t d) {
        const Cell<T> c = cell(k, d, false);
        const int64_t N = p_.N, H = p_.H, In = p_.input_of(k);
        const T* in = layer_input(k);
        T* out = layer_output(k);
        std::vector<double> gi(N * GH_), gh(N * GH_);
        for (int64_t step = 0; step < p_.T; ++step) {
            const int64_t t = time_of(d, step);
            int64_t ldh = 0;
            const T* hp = prev_h(k, d, step, &ldh);
            const T* x = in + t * N * In;
            T* act = ws_ + lay_.act(k, d) + t * N * GH_;
            T* h = out + t * N * DH_ + d * H;
            affine(N, GH_, In, x, In, c.w_ih, c.b_ih, gi.data(), GH_);
            if (p_.mode == FATHOM_RNN_GRU) {
                // r and z first: the candidate's recurrent input is r*h'.
                affine(N, 2 * H, H, hp, ldh, c.w_hh, c.b_hh, gh.data(), GH_);
                std::vector<double> rh(N * H);
                for (int64_t n = 0; n < N; ++n)
                    for (int64_t j = 0; j < H; ++j) {
                        const double r = sigmoid(gi[n * GH_ + j] + gh[n * GH_ + j]);
                        rh[n * H + j] = static_cast<double>(static_cast<T>(r)) * hp[n * ldh + j];
                    }
                affine(N, H, H, rh.data(), H, c.w_hh + 2 * H * H, c.b_hh + 2 * H,
                       gh.data() + 2 * H, GH_);
            } else {
                affine(N, GH_, H, hp, ldh, c.w_hh, c.b_hh, gh.data(), GH_);
            }
            const T* cp = p_.lstm() ? prev_c(k, d, step) : nullptr;
            T* cs = p_.lstm() ? ws_ + lay_.cell(k, d) + t * N * H : nullptr;
            T* m = p_.mode == FATHOM_RNN_GRU_PYTORCH ? ws_ + lay_.lin(k, d) + t * N * H : nullptr;
            for (int64_t n = 0; n < N; ++n)
                for (int64_t j = 0; j < H; ++j) {
                    const double* a = gi.data() + n * GH_;
                    const double* b = gh.data() + n * GH_;
                    T* ga = act + n * GH_;
                    const double hprev = hp[n * ldh + j];
                    double hv = 0.0;
                    switch (p_.mode) {
                        case FATHOM_RNN_TANH: hv = std::tanh(a[j] + b[j]); break;
                        case FATHOM_RNN_RELU: hv = std::max(0.0, a[j] + b[j]); break;
                        case FATHOM_RNN_LSTM: {
                            const T i = static_cast<T>(sigmoid(a[j] + b[j]));
                            const T f = static_cast<T>(sigmoid(a[H + j] + b[H + j]));
                            const T g = static_cast<T>(std::tanh(a[2 * H + j] + b[2 * H + j]));
                            const T o = static_cast<T>(sigmoid(a[3 * H + j] + b[3 * H + j]));
                            const T cv = static_cast<T>(static_cast<double>(f) * cp[n * H + j] +
                                                        static_cast<double>(i) * g);
                            ga[j] = i, ga[H + j] = f, ga[2 * H + j] = g, ga[3 * H + j] = o;
                            cs[n * H + j] = cv;
                            hv = static_cast<double>(o) * std::tanh(static_cast<double>(cv));
                            break;
                        }
                        default: {  // the GRUs
                            const T r = static_cast<T>(sigmoid(a[j] + b[j]));
                            const T z = static_cast<T>(sigmoid(a[H + j] + b[H + j]));
                            double pre = a[2 * H + j] + b[2 * H + j];  // GRU: (r*h') W_hn^T + b_hn
                            if (m) {  // GRU_PYTORCH: r * (h' W_hn^T + b_hn)
                                m[n * H + j] = static_cast<T>(b[2 * H + j]);
                                pre = a[2 * H + j] +
                                      static_cast<double>(r) * static_cast<double>(m[n * H + j]);
                            }
                            const T nv = static_cast<T>(std::tanh(pre));
                            ga[j] = r, ga[H + j] = z, ga[2 * H + j] = nv;
                            hv = static_cast<double>(z) * hprev + (1.0 - z) * nv;
                        }
                    }
                    if (p_.G == 1) ga[j] = static_cast<T>(hv);
                    h[n * DH_ + j] = static_cast<T>(hv);
                }
        }
        // Final states: the last step of this direction.
        const int64_t last = time_of(d, p_.T - 1);
        for (int64_t n = 0; n < N; ++n)
            for (int64_t j = 0; j < H; ++j) {
                t_.dst_iter[state_row(k, d) + n * H + j] = out[(last * N + n) * DH_ + d * H + j];
                if (p_.lstm())
                    t_.dst_iter_c[state_row(k, d) + n * H + j] =
                        ws_[lay_.cell(k, d) + (last * N + n) * H + j];
            }
    }

    // Backward through time of one layer and direction, last step first.
    // d_out (T,N,D*H) is dL/d(layer output); d_in (T,N,I_k) receives += dL/d(input).
    void backward_layer(int64_t k, int64_t d, const std::vector<double>& d_out,
                        std::vector<double>& d_in) {
        const bool grads = t_.diff_weights != nullptr;
        Cell<T> c = cell(k, d, grads);
        const int64_t N = p_.N, H = p_.H, In = p_.input_of(k);
        const T* in = layer_input(k);
        const int64_t row = state_row(k, d);
        // dh_next, dc_next: dL/dh and dL/dc of this step through the next one.
        std::vector<double> dh_next(N * H, 0.0), dc_next(N * H, 0.0);
        if (t_.diff_dst_iter)
            for (int64_t i = 0; i < N * H; ++i) dh_next[i] = t_.diff_dst_iter[row + i];
        if (p_.lstm() && t_.diff_dst_iter_c)
            for (int64_t i = 0; i < N * H; ++i) dc_next[i] = t_.diff_dst_iter_c[row + i];
        // da_i / da_h: dL/d(pre-activation) of x W_ih^T + b_ih and h' W_hh^T + b_hh,
        // per gate row; they differ only in the candidate rows of the GRUs.
        std::vector<double> da_i(N * GH_), da_h(N * GH_), dhp(N * H), rh, g;
        for (int64_t step = p_.T - 1; step >= 0; --step) {
            const int64_t t = time_of(d, step);
            int64_t ldh = 0;
            const T* hp = prev_h(k, d, step, &ldh);
            const T* x = in + t * N * In;
            const T* act = ws_ + lay_.act(k, d) + t * N * GH_;
            const T* cp = p_.lstm() ? prev_c(k, d, step) : nullptr;
            std::fill(dhp.begin(), dhp.end(), 0.0);
            if (p_.mode == FATHOM_RNN_GRU) {
                // dL/d(r*h') = dan W_hn needs dan first: candidate rows before r, z.
                rh.assign(N * H, 0.0);
                g.assign(N * H, 0.0);
            }
            for (int64_t n = 0; n < N; ++n)
                for (int64_t j = 0; j < H; ++j) {
                    const T* ga = act + n * GH_;
                    double* ai = da_i.data() + n * GH_;
                    double* ah = da_h.data() + n * GH_;
                    const double dh = d_out[(t * N + n) * DH_ + d * H + j] + dh_next[n * H + j];
                    const double hprev = hp[n * ldh + j];
                    switch (p_.mode) {
                        case FATHOM_RNN_TANH: {  // h = tanh(a): da = dh (1 - h^2)
                            const double h = ga[j];
                            ai[j] = ah[j] = dh * (1.0 - h * h);
                            break;
                        }
                        case FATHOM_RNN_RELU:  // h = max(0, a): da = dh [h > 0]
                            ai[j] = ah[j] = ga[j] > 0 ? dh : 0.0;
                            break;
                        case FATHOM_RNN_LSTM: {
                            // c = f c' + i g, h = o tanh(c):
                            //   dc = dc_next + dh o (1 - tanh(c)^2); do = dh tanh(c)
                            //   di = dc g, df = dc c', dg = dc i, dc' = dc f
                            // and through the activations: sigma' = s(1-s), tanh' = 1 - v^2.
                            const double i = ga[j], f = ga[H + j], gg = ga[2 * H + j],
                                         o = ga[3 * H + j];
                            const double cv = ws_[lay_.cell(k, d) + (t * N + n) * H + j];
                            const double cprev = cp[n * H + j];
                            const double tc = std::tanh(cv);
                            const double dc = dc_next[n * H + j] + dh * o * (1.0 - tc * tc);
                            ai[j] = dc * gg * i * (1.0 - i);
                            ai[H + j] = dc * cprev * f * (1.0 - f);
                            ai[2 * H + j] = dc * i * (1.0 - gg * gg);
                            ai[3 * H + j] = dh * tc * o * (1.0 - o);
                            for (int64_t q = 0; q < 4; ++q) ah[q * H + j] = ai[q * H + j];
                            dc_next[n * H + j] = dc * f;
                            break;
                        }
                        default: {  // GRUs: h = z h' + (1 - z) n
                            // dz = dh (h' - n), dn = dh (1 - z), dh' += dh z;
                            // dan = dn (1 - n^2) is the candidate's pre-activation.
                            const double r = ga[j], z = ga[H + j], nv = ga[2 * H + j];
                            const double dan = dh * (1.0 - z) * (1.0 - nv * nv);
                            ai[H + j] = ah[H + j] = dh * (hprev - nv) * z * (1.0 - z);
                            ai[2 * H + j] = dan;
                            dhp[n * H + j] += dh * z;
                            if (p_.mode == FATHOM_RNN_GRU_PYTORCH) {
                                // pre = a_n + r m, m = h' W_hn^T + b_hn:
                                //   dr = dan m, dm = dan r (m's pre-activation rows)
                                const double m = ws_[lay_.lin(k, d) + (t * N + n) * H + j];
                                ah[2 * H + j] = dan * r;
                                ai[j] = ah[j] = dan * m * r * (1.0 - r);
                            } else {
                                // pre = a_n + (r h') W_hn^T + b_hn: dr needs dL/d(r h') below.
                                ah[2 * H + j] = dan;
                                rh[n * H + j] = r * hprev;
                            }
                        }
                    }
                }
            if (p_.mode == FATHOM_RNN_GRU) {
                // g = dL/d(r h') = dan W_hn; dr = g h', dh' += g r.
                add_input_grad(N, H, H, da_h.data() + 2 * H, GH_, c.w_hh + 2 * H * H, g.data(), H);
                for (int64_t n = 0; n < N; ++n)
                    for (int64_t j = 0; j < H; ++j) {
                        const double r = act[n * GH_ + j];
                        const double gv = g[n * H + j];
                        da_i[n * GH_ + j] = da_h[n * GH_ + j] =
                            gv * hp[n * ldh + j] * r * (1.0 - r);
                        dhp[n * H + j] += gv * r;
                    }
            }
            // Through the two affine maps: input x (rows of W_ih) and h' (rows of
            // W_hh; the notes' GRU feeds r h' to the candidate rows instead).
            const int64_t rows_h = p_.mode == FATHOM_RNN_GRU ? 2 * H : GH_;
            add_input_grad(N, GH_, In, da_i.data(), GH_, c.w_ih, d_in.data() + t * N * In, In);
            add_input_grad(N, rows_h, H, da_h.data(), GH_, c.w_hh, dhp.data(), H);
            if (grads) {
                add_weight_grad(N, GH_, In, da_i.data(), GH_, x, In, c.dw_ih.data());
                add_bias_grad(N, GH_, da_i.data(), GH_, c.db_ih.data());
                add_weight_grad(N, rows_h, H, da_h.data(), GH_, hp, ldh, c.dw_hh.data());
                if (p_.mode == FATHOM_RNN_GRU)
                    add_weight_grad(N, H, H, da_h.data() + 2 * H, GH_, rh.data(), H,
                                    c.dw_hh.data() + 2 * H * H);
                add_bias_grad(N, GH_, da_h.data(), GH_, c.db_hh.data());
            }
            dh_next.swap(dhp);
        }
        for (int64_t i = 0; i < N * H; ++i) {
            if (t_.diff_src_iter) t_.diff_src_iter[row + i] = static_cast<T>(dh_next[i]);
            if (t_.diff_src_iter_c) t_.diff_src_iter_c[row + i] = static_cast<T>(dc_next[i]);
        }
        if (grads) {
            T* const* dw = t_.diff_weights + 4 * (k * p_.D + d);
            const std::vector<double>* parts[] = {&c.dw_ih, &c.dw_hh, &c.db_ih, &c.db_hh};
            for (int q = 0; q < 4; ++q)
                for (size_t i = 0; i < parts[q]->size(); ++i)
                    dw[q][i] = static_cast<T>((*parts[q])[i]);
        }
    }

    const RnnParams& p_;
    const RnnTensors<T>& t_;
    T* ws_;
    RefLayout lay_;
    const int64_t GH_, DH_;
    const std::vector<T> zeros_;  // h0 / c0 when the caller passes none
};

template <typename T>
void forward_impl(const RnnParams& p, const RnnTensors<T>& t, void* workspace) {
    // Inference keeps the saved gates in a temporary of the workspace's layout.
    std::vector<T> scratch;
    T* ws = static_cast<T*>(workspace);
    if (ws == nullptr) {
        scratch.resize(RefLayout{p}.total());
        ws = scratch.data();
    }
    Reference<T>(p, t, ws).forward();
}

template <typename T>
void backward_impl(const RnnParams& p, const RnnTensors<T>& t, const void* workspace) {
    // NOTE: backward only reads the workspace; the cast keeps one class for both passes.
    Reference<T>(p, t, static_cast<T*>(const_cast<void*>(workspace))).backward();
}

}  // namespace

int64_t rnn_ref_payload_bytes(const RnnParams& p, fathom_dtype dtype) {
    return RefLayout{p}.total() * static_cast<int64_t>(dtype_size(dtype));
}

void rnn_forward_ref(const RnnParams& p, const RnnTensors<float>& t, void* workspace) {
    forward_impl(p, t, workspace);
}
void rnn_forward_ref(const RnnParams& p, const RnnTensors<double>& t, void* workspace) {
    forward_impl(p, t, workspace);
}
void rnn_backward_ref(const RnnParams& p, const RnnTensors<float>& t, const void* workspace) {
    backward_impl(p, t, workspace);
}
void rnn_backward_ref(const RnnParams& p, const RnnTensors<double>& t, const void* workspace) {
    backward_impl(p, t, workspace);
}

}  // namespace fathom
