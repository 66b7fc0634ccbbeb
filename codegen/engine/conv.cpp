// conv.hpp through oneDNN 2.6: per size (8, 4, 2, 1 samples) the three convolution primitives
// in the layouts oneDNN picks, and the reorders between those and kiln's NCHW / OIHW; per team
// member, its buffers in the picked layouts, its scratchpad and its memory objects. A run sets
// the data handles of kiln's tensors and executes through the C API with argument arrays on the
// stack: nothing is allocated per run (oneDNN's own per-call map aside, see inside_onednn).
#include "kiln/codegen/engine/conv.hpp"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <tuple>
#include <vector>

#include "kiln/codegen/engine/onednn.hpp"
#include "kiln/codegen/kernels/pool.hpp"
#include "kiln/core/error.hpp"

namespace kiln::engine {

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using desc = dnnl::memory::desc;

constexpr std::array<long, 4> sizes{8, 4, 2, 1};  // convolution::most first

// A primitive and the scratchpad it asks for (user-managed: each member passes its own). A
// reorder into bf16 may instead write f32 in the target's layout (`mid`, in the member's mid
// buffer), which engine::to_bf16 then rounds into the target: oneDNN 2.6's reorders that change
// both the layout and the type run 2.5-4x slower than its f32 layout change alone (jit:uni
// against jit:blk, measured on a Zen 5).
struct prim {
  dnnl::primitive p;
  desc scratch;
  desc mid;
  explicit operator bool() const { return bool(p) || bool(mid); }  // anything to run
};

template <class P, class PD>
prim make(const PD& pd) {
  return {P(pd), pd.scratchpad_desc(), {}};
}

dnnl::primitive_attr user_scratchpad(bool accumulate = false) {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (accumulate) {
    dnnl::post_ops po;
    po.append_sum(1.0f);
    a.set_post_ops(po);
  }
  return a;
}

// from → to, or nothing when the layouts are the same (the run then passes kiln's pointer).
prim reorder(const desc& from, const desc& to, bool accumulate = false) {
  if (from == to && !accumulate) return {};
  const dnnl::reorder::primitive_desc pd(detail::cpu(), from, detail::cpu(), to,
                                         user_scratchpad(accumulate));
  return make<dnnl::reorder>(pd);
}

// kiln's f32 activations into a primitive's input: through `mid` when that input is bf16.
prim inward(const desc& from, const desc& to) {
  if (to.data_type() != dt::bf16) return reorder(from, to);
  dnnl_memory_desc_t f32 = to.data;  // the same blocking, in f32
  f32.data_type = dnnl_f32;
  prim r = reorder(from, desc(f32));
  r.mid = desc(f32);
  return r;
}

}  // namespace

// The primitives of one size n: the convolutions, and the reorders around them (empty when a
// layout is kiln's own). Descriptors: *_p kiln's layout, the others oneDNN's.
struct level {
  long n = 0;
  desc x_p, y_p, w_p;
  desc x, w, y;      // forward
  desc dy, wd, dxd;  // backward data: diff_dst, weights, diff_src
  desc xw, dyw, dw;  // backward weights: src, diff_dst, diff_weights
  prim fwd, bwd_data, bwd_weights;
  prim to_x, to_w, from_y;
  prim to_dy, to_wd, from_dx;
  prim to_xw, to_dyw, from_dw, add_dw;
  // The pooled runs (shape.pool, y blocked by channels): the pooled output in y's blocking
  // (py) and in NCHW (py_p), and the unpooled gradient (in y's layout) into each backward
  // primitive's diff_dst.
  desc py, py_p;
  prim from_py, to_py, pool_dyw, pool_dy;
  int w_kept = -1, wd_kept = -1;  // the weights' copies set_weights makes (impl::kept), if any
};

struct convolution::impl {
  conv_shape shape;
  std::vector<level> levels;
  std::string name;
  long block = 0;  // the pooled runs' channel block (16, 8, 4), 0 when they are not available
  // The weights in each layout a primitive reads them in (set_weights), and whose they are.
  struct kept_weights {
    desc d;
    const prim* reorder;
    std::size_t level;
    std::vector<float> buf;
    dnnl::memory mem;
  };
  std::vector<kept_weights> kept;
  const float* kept_for = nullptr;
  // One member's buffers (each as large as the largest size needs) and memory objects.
  struct member {
    dnnl::stream stream;
    std::vector<float> x, w, y, dy, wd, dxd, xw, dyw, dw, mid, py, bias;
    std::vector<char> scratch;
    dnnl::memory scratch_memory;  // over `scratch`, passed to every primitive
    // per level: every descriptor's memory object, over the buffers or (kiln's) set per run
    struct mems {
      dnnl::memory x_p, y_p, w_p, dy_p, dx_p, dw_p;
      dnnl::memory x, w, y, dy, wd, dxd, xw, dyw, dw;
      dnnl::memory x_mid, dy_mid, xw_mid, dyw_mid;  // over `mid`, for bf16 inputs
      dnnl::memory py, py_p;                        // the pooled runs'
    };
    std::vector<mems> at;
  };
  std::vector<member> members;
};

namespace {

// Executes p with args (and the member's scratchpad for it); flags oneDNN's allocation.
void exec(const prim& p, dnnl_stream_t s, dnnl_memory_t scratch,
          std::initializer_list<dnnl_exec_arg_t> args) {
  dnnl_exec_arg_t all[8];
  int n = 0;
  for (const auto& a : args) all[n++] = a;
  all[n++] = {DNNL_ARG_SCRATCHPAD, scratch};
  detail::execute(p.p.get(), s, n, all);
}

void run_reorder(const prim& p, dnnl_stream_t s, dnnl_memory_t scratch, dnnl_memory_t from,
                 dnnl_memory_t to) {
  exec(p, s, scratch, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
}

// The data of a memory object, as T.
template <class T = float>
T* handle(dnnl_memory_t m) {
  void* p = nullptr;
  dnnl_memory_get_data_handle(m, &p);
  return static_cast<T*>(p);
}

// An input reorder (inward): directly, or into `mid` in f32 (kiln's own tensor when its layout
// is already the target's) and then rounded into `to`.
void run_in(const prim& p, dnnl_stream_t s, dnnl_memory_t scratch, dnnl_memory_t from,
            const dnnl::memory& mid, dnnl_memory_t to) {
  if (!p.mid) return run_reorder(p, s, scratch, from, to);
  if (p.p) run_reorder(p, s, scratch, from, mid.get());
  to_bf16(handle(p.p ? mid.get() : from), handle<std::uint16_t>(to),
          p.mid.get_size() / sizeof(float));
}

std::size_t floats(const desc& d) { return (d.get_size() + sizeof(float) - 1) / sizeof(float); }

}  // namespace

convolution::convolution(const conv_shape& s, int members) : impl_(std::make_unique<impl>()) {
  detail::pin_threads();
  impl& m = *impl_;
  m.shape = s;
  const dt in = s.in == precision::bf16 ? dt::bf16 : dt::f32;
  const dnnl::memory::dims strides{s.stride, s.stride}, pad{s.pad, s.pad};
  const auto attr = user_scratchpad();
  std::string data_name;
  try {
    for (const long n : sizes) {
      level l;
      l.n = n;
      const dnnl::memory::dims xd{n, s.c, s.h, s.w}, wdims{s.f, s.c, s.k, s.k},
          yd{n, s.f, s.ho, s.wo};
      l.x_p = desc(xd, dt::f32, tag::nchw);
      l.y_p = desc(yd, dt::f32, tag::nchw);
      l.w_p = desc(wdims, dt::f32, tag::oihw);
      const desc xa(xd, in, tag::any), wa(wdims, in, tag::any), ya(yd, dt::f32, tag::any),
          dya(yd, in, tag::any), dxa(xd, dt::f32, tag::any), dwa(wdims, dt::f32, tag::any);
      const dnnl::convolution_forward::primitive_desc fpd(
          dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                          dnnl::algorithm::convolution_direct, xa, wa, ya, strides,
                                          pad, pad),
          attr, detail::cpu());
      l.x = fpd.src_desc(), l.w = fpd.weights_desc(), l.y = fpd.dst_desc();
      l.fwd = make<dnnl::convolution_forward>(fpd);
      l.to_x = inward(l.x_p, l.x), l.to_w = reorder(l.w_p, l.w), l.from_y = reorder(l.y, l.y_p);
      if (s.dx) {
        const dnnl::convolution_backward_data::primitive_desc dpd(
            dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, dxa, wa, dya,
                                                  strides, pad, pad),
            attr, detail::cpu(), fpd);
        l.dy = dpd.diff_dst_desc(), l.wd = dpd.weights_desc(), l.dxd = dpd.diff_src_desc();
        l.bwd_data = make<dnnl::convolution_backward_data>(dpd);
        if (n == sizes[0]) data_name = dpd.impl_info_str();
        l.to_dy = inward(l.y_p, l.dy), l.to_wd = reorder(l.w_p, l.wd);
        l.from_dx = reorder(l.dxd, l.x_p);
      }
      const dnnl::convolution_backward_weights::primitive_desc wpd(
          dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, xa, dwa,
                                                   dya, strides, pad, pad),
          attr, detail::cpu(), fpd);
      l.xw = wpd.src_desc(), l.dyw = wpd.diff_dst_desc(), l.dw = wpd.diff_weights_desc();
      l.bwd_weights = make<dnnl::convolution_backward_weights>(wpd);
      l.to_xw = inward(l.x_p, l.xw), l.to_dyw = inward(l.y_p, l.dyw);
      l.from_dw = reorder(l.dw, l.w_p), l.add_dw = reorder(l.dw, l.w_p, true);
      if (s.pool) {
        // The layout blocked by channels that the pooled kernels read: n, c/B, h, w, B.
        for (const auto& [b, t] :
             {std::pair{16L, tag::nChw16c}, {8L, tag::nChw8c}, {4L, tag::nChw4c}})
          if (l.y == desc(yd, dt::f32, t)) {
            const dnnl::memory::dims pd{n, s.f, s.ho / 2, s.wo / 2};
            l.py = desc(pd, dt::f32, t), l.py_p = desc(pd, dt::f32, tag::nchw);
            l.from_py = reorder(l.py, l.py_p), l.to_py = reorder(l.py_p, l.py);
            l.pool_dyw = inward(l.y, l.dyw);
            if (s.dx) l.pool_dy = inward(l.y, l.dy);
            if (n == sizes[0]) m.block = b;
            if (m.block != b) m.block = 0;  // every size alike, or none pooled
          }
        if (!l.py) m.block = 0;
      }
      if (n == sizes[0])  // forward / backward data / backward weights
        m.name = std::string(fpd.impl_info_str()) + " / " + (s.dx ? data_name : "-") + " / " +
                 wpd.impl_info_str();
      m.levels.push_back(std::move(l));
    }
  } catch (const dnnl::error& e) {
    throw error("kiln engine: oneDNN has no convolution for " + std::to_string(s.c) + "x" +
                std::to_string(s.h) + "x" + std::to_string(s.w) + " with " + std::to_string(s.f) +
                " filters of " + std::to_string(s.k) + "x" + std::to_string(s.k) + ": " + e.what());
  }
  // Buffers as large as the largest level needs; scratchpads as large as any primitive's.
  const level& big = m.levels.front();
  std::size_t scratch = 0;
  for (const level& l : m.levels)
    for (const prim* p : {&l.fwd, &l.bwd_data, &l.bwd_weights, &l.to_x, &l.to_w, &l.from_y,
                          &l.to_dy, &l.to_wd, &l.from_dx, &l.to_xw, &l.to_dyw, &l.from_dw,
                          &l.add_dw, &l.from_py, &l.to_py, &l.pool_dyw, &l.pool_dy})
      if (*p) scratch = std::max(scratch, p->scratch.get_size());
  m.members.resize(std::size_t(std::max(members, 1)));
  for (auto& w : m.members) {
    w.stream = dnnl::stream(detail::cpu());
    w.x.resize(floats(big.x)), w.w.resize(floats(big.w)), w.y.resize(floats(big.y));
    w.xw.resize(floats(big.xw)), w.dyw.resize(floats(big.dyw)), w.dw.resize(floats(big.dw));
    if (s.dx)
      w.dy.resize(floats(big.dy)), w.wd.resize(floats(big.wd)), w.dxd.resize(floats(big.dxd));
    for (const prim* p :
         {&big.to_x, &big.to_dy, &big.to_xw, &big.to_dyw, &big.pool_dyw, &big.pool_dy})
      if (p->mid) w.mid.resize(std::max(w.mid.size(), floats(p->mid)));
    if (m.block) w.py.resize(floats(big.py)), w.bias.resize(std::size_t((s.f + 15) / 16 * 16));
    w.scratch.resize(scratch + 64);
    const desc bytes({long(w.scratch.size())}, dt::u8, tag::x);
    w.scratch_memory = dnnl::memory(bytes, detail::cpu(), w.scratch.data());
    for (const level& l : m.levels) {
      auto over = [&](const desc& d, std::vector<float>& buf) {
        return d ? dnnl::memory(d, detail::cpu(), static_cast<void*>(buf.data())) : dnnl::memory();
      };
      auto per_run = [&](const desc& d) {
        return dnnl::memory(d, detail::cpu(), static_cast<void*>(DNNL_MEMORY_NONE));
      };
      impl::member::mems k;
      k.x_p = per_run(l.x_p), k.y_p = per_run(l.y_p), k.w_p = per_run(l.w_p);
      k.dy_p = per_run(l.y_p), k.dx_p = per_run(l.x_p), k.dw_p = per_run(l.w_p);
      k.x = over(l.x, w.x), k.w = over(l.w, w.w), k.y = over(l.y, w.y);
      k.xw = over(l.xw, w.xw), k.dyw = over(l.dyw, w.dyw), k.dw = over(l.dw, w.dw);
      if (s.dx) k.dy = over(l.dy, w.dy), k.wd = over(l.wd, w.wd), k.dxd = over(l.dxd, w.dxd);
      k.x_mid = over(l.to_x.mid, w.mid), k.dy_mid = over(l.to_dy.mid, w.mid);
      k.xw_mid = over(l.to_xw.mid, w.mid), k.dyw_mid = over(l.to_dyw.mid, w.mid);
      if (m.block) k.py = over(l.py, w.py), k.py_p = per_run(l.py_p);
      w.at.push_back(std::move(k));
    }
  }
  // One copy of the weights per layout the primitives read them in (set_weights).
  for (std::size_t i = 0; i < m.levels.size(); ++i) {
    level& l = m.levels[i];
    for (auto [r, d, at] : {std::tuple{&l.to_w, &l.w, &l.w_kept}, {&l.to_wd, &l.wd, &l.wd_kept}}) {
      if (!*r) continue;
      auto same =
          std::find_if(m.kept.begin(), m.kept.end(), [&](const auto& k) { return k.d == *d; });
      if (same == m.kept.end()) {
        impl::kept_weights k{*d, r, i, std::vector<float>(floats(*d)), {}};
        k.mem = dnnl::memory(*d, detail::cpu(), static_cast<void*>(k.buf.data()));
        m.kept.push_back(std::move(k));
        same = m.kept.end() - 1;
      }
      *at = int(same - m.kept.begin());
    }
  }
}

convolution::convolution() noexcept = default;
convolution::convolution(convolution&&) noexcept = default;
convolution& convolution::operator=(convolution&&) noexcept = default;
convolution::~convolution() = default;

std::string convolution::implementation() const { return impl_ ? impl_->name : ""; }

namespace {

void set(const dnnl::memory& m, const void* p) {
  dnnl_memory_set_data_handle(m.get(), const_cast<void*>(p));
}

// The memory a primitive reads or writes for one of kiln's tensors: kiln's own (its handle set
// to p) when no reorder is needed, else the member's buffer in oneDNN's layout.
dnnl_memory_t side(const prim& r, const dnnl::memory& mine, const dnnl::memory& kilns,
                   const void* p) {
  set(kilns, p);
  return r ? mine.get() : kilns.get();
}

}  // namespace

namespace {

// What every run of a convolution starts with: the calling member's buffers and stream, and the
// floats of one sample's input and output.
struct call {
  convolution::impl& m;
  convolution::impl::member& me;
  dnnl_stream_t s;
  long in, out;
  // The weights in a primitive's layout (desc d, reordered by r into `mine`): set_weights' copy
  // (`kept`) when w is the array it was made from, else reordered once per run, again only when
  // a smaller size's primitive wants another layout.
  const desc* ready = nullptr;
  dnnl_memory_t weights(const prim& r, const desc& d, const dnnl::memory& mine,
                        const dnnl::memory& kilns, const float* w, int kept) {
    if (kept >= 0 && w == m.kept_for) return m.kept[std::size_t(kept)].mem.get();
    const dnnl_memory_t wm = side(r, mine, kilns, w);
    if (r && !(ready && *ready == d)) run_reorder(r, s, me.scratch_memory.get(), kilns.get(), wm);
    ready = &d;
    return wm;
  }
  // f(level, the member's memories for it, first sample) over n samples cut greedily into the
  // levels' sizes (8, 4, 2, 1): the same cut for the same n every time.
  template <class F>
  void each(long n, F&& f) {
    long done = 0;
    for (std::size_t i = 0; i < m.levels.size(); ++i)
      for (const level& l = m.levels[i]; n - done >= l.n; done += l.n) f(l, me.at[i], done);
  }
};

call start(convolution::impl& m, int member) {
  detail::pin_threads();
  const conv_shape& c = m.shape;
  auto& me = m.members[std::size_t(member)];
  return {m, me, me.stream.get(), c.c * c.h * c.w, c.f * c.ho * c.wo};
}

}  // namespace

namespace {

// The forward primitive of one level into dst (oneDNN's layout), x and w reordered as it reads
// them.
void convolve(call& c, const level& l, convolution::impl::member::mems& k, long first,
              const float* x, const float* w, dnnl_memory_t dst) {
  const dnnl_memory_t wm = c.weights(l.to_w, l.w, k.w, k.w_p, w, l.w_kept);
  const dnnl_memory_t xm = side(l.to_x, k.x, k.x_p, x + first * c.in);
  if (l.to_x) run_in(l.to_x, c.s, c.me.scratch_memory.get(), k.x_p.get(), k.x_mid, xm);
  exec(l.fwd, c.s, c.me.scratch_memory.get(),
       {{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, dst}});
}

// The pooled runs' sizes: channel groups of `block`, and the floats of one sample's full output
// and pooled output in the blocked layout, its pooled output in NCHW and its window codes.
struct pool_sizes {
  long groups, block, full, quarter, pooled, codes;
};
pool_sizes pool_sizes_of(const convolution::impl& m) {
  const conv_shape& s = m.shape;
  const long groups = (s.f + m.block - 1) / m.block, ph = s.ho / 2, pw = s.wo / 2;
  return {groups,
          m.block,
          groups * m.block * s.ho * s.wo,
          groups * m.block * ph * pw,
          s.f * ph * pw,
          convolution::pooled_codes(s.f, s.ho, s.wo)};
}

}  // namespace

void convolution::forward(int member, long n, const float* x, const float* w, float* y) const {
  call c = start(*impl_, member);
  c.each(n, [&](const level& l, auto& k, long first) {
    const dnnl_memory_t ym = side(l.from_y, k.y, k.y_p, y + first * c.out);
    convolve(c, l, k, first, x, w, ym);
    if (l.from_y) run_reorder(l.from_y, c.s, c.me.scratch_memory.get(), ym, k.y_p.get());
  });
}

namespace {

// The backward primitives of one level, dy already in their layouts (dyw: backward weights'
// diff_dst; dym: backward data's).
void backward_from(call& c, const level& l, convolution::impl::member::mems& k, long first,
                   dnnl_memory_t dyw, dnnl_memory_t dym, const float* x, const float* w, float* dx,
                   float* dw, bool accumulate) {
  const dnnl_memory_t scratch = c.me.scratch_memory.get();
  if (dx) {
    const dnnl_memory_t wm = c.weights(l.to_wd, l.wd, k.wd, k.w_p, w, l.wd_kept);
    const dnnl_memory_t dxm = side(l.from_dx, k.dxd, k.dx_p, dx + first * c.in);
    exec(l.bwd_data, c.s, scratch,
         {{DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DIFF_SRC, dxm}});
    if (l.from_dx) run_reorder(l.from_dx, c.s, scratch, dxm, k.dx_p.get());
  }
  const dnnl_memory_t xm = side(l.to_xw, k.xw, k.x_p, x + first * c.in);
  if (l.to_xw) run_in(l.to_xw, c.s, scratch, k.x_p.get(), k.xw_mid, xm);
  // The weight gradient: into dw directly when it is the first sum and already in kiln's
  // layout, else through the member's buffer, copied (or added) into dw.
  set(k.dw_p, dw);
  const bool direct = !l.from_dw && !accumulate;
  const dnnl_memory_t dwm = direct ? k.dw_p.get() : k.dw.get();
  exec(l.bwd_weights, c.s, scratch,
       {{DNNL_ARG_SRC, xm}, {DNNL_ARG_DIFF_DST, dyw}, {DNNL_ARG_DIFF_WEIGHTS, dwm}});
  if (!direct) run_reorder(accumulate ? l.add_dw : l.from_dw, c.s, scratch, dwm, k.dw_p.get());
}

}  // namespace

void convolution::backward(int member, long n, const float* x, const float* w, const float* dy,
                           float* dx, float* dw, bool accumulate) const {
  if (dx && !impl_->shape.dx) throw error("kiln engine: this convolution was made without dx");
  call c = start(*impl_, member);
  const dnnl_memory_t scratch = c.me.scratch_memory.get();
  c.each(n, [&](const level& l, auto& k, long first) {
    // dy in each backward primitive's layout (one reorder when both use the same).
    const dnnl_memory_t dyw = side(l.to_dyw, k.dyw, k.dy_p, dy + first * c.out);
    if (l.to_dyw) run_in(l.to_dyw, c.s, scratch, k.dy_p.get(), k.dyw_mid, dyw);
    dnnl_memory_t dym = nullptr;
    if (dx) {
      const bool shared = l.to_dy && l.to_dyw && l.dy == l.dyw;
      dym = shared ? dyw : side(l.to_dy, k.dy, k.dy_p, dy + first * c.out);
      if (l.to_dy && !shared) run_in(l.to_dy, c.s, scratch, k.dy_p.get(), k.dy_mid, dym);
    }
    backward_from(c, l, k, first, dyw, dym, x, w, dx, dw, accumulate);
    accumulate = true;
  });
}

bool convolution::pooled() const noexcept { return impl_ && impl_->block > 0; }

void convolution::set_weights(const float* w) const {
  detail::pin_threads();
  impl& m = *impl_;
  auto& me = m.members.front();  // the caller's, before (or after) the members run
  for (auto& k : m.kept) {
    const dnnl::memory& kilns = me.at[k.level].w_p;
    set(kilns, w);
    run_reorder(*k.reorder, me.stream.get(), me.scratch_memory.get(), kilns.get(), k.mem.get());
  }
  m.kept_for = w;
}

void convolution::forward_pooled(int member, long n, const float* x, const float* w,
                                 const float* bias, float* y, float* which) const {
  if (!pooled()) throw error("kiln engine: this convolution has no pooled runs");
  call c = start(*impl_, member);
  const conv_shape& sh = impl_->shape;
  const pool_sizes z = pool_sizes_of(*impl_);
  // The bias over the padded channels (zeros past f: the padding's outputs are never read).
  std::copy(bias, bias + sh.f, c.me.bias.begin());
  c.each(n, [&](const level& l, auto& k, long first) {
    convolve(c, l, k, first, x, w, k.y.get());
    const dnnl_memory_t pym = side(l.from_py, k.py, k.py_p, y + first * z.pooled);
    const float* full = handle(k.y.get());
    float* py = handle(pym);
    for (long i = 0; i < l.n; ++i)  // per sample: its codes sit `codes` floats apart
      kernels::bias_relu_max_pool_2x2_blocked(
          full + i * z.full, c.me.bias.data(), 1, std::size_t(z.groups), std::size_t(z.block),
          int(sh.ho), int(sh.wo), py + i * z.quarter, which + (first + i) * z.codes);
    if (l.from_py) run_reorder(l.from_py, c.s, c.me.scratch_memory.get(), pym, k.py_p.get());
  });
}

void convolution::backward_pooled(int member, long n, const float* x, const float* w,
                                  const float* dy, const float* which, float* dx, float* dw,
                                  bool accumulate) const {
  if (!pooled()) throw error("kiln engine: this convolution has no pooled runs");
  if (dx && !impl_->shape.dx) throw error("kiln engine: this convolution was made without dx");
  call c = start(*impl_, member);
  const conv_shape& sh = impl_->shape;
  const pool_sizes z = pool_sizes_of(*impl_);
  const dnnl_memory_t scratch = c.me.scratch_memory.get();
  c.each(n, [&](const level& l, auto& k, long first) {
    // dy: into the pooled blocked layout, then unpooled into each backward primitive's
    // diff_dst: straight into it (rounded to bf16) when it is y's layout in bf16 and the two
    // primitives share it, else into the member's y (f32, y's layout) and from there.
    const dnnl_memory_t pym = side(l.to_py, k.py, k.py_p, dy + first * z.pooled);
    if (l.to_py) run_reorder(l.to_py, c.s, scratch, k.py_p.get(), pym);
    const float* py = handle(pym);
    const bool shared = l.pool_dy && l.pool_dyw && l.dy == l.dyw;
    const bool rounded = l.pool_dyw.mid && !l.pool_dyw.p && (!dx || shared);
    auto unpool = [&](auto* out) {
      for (long i = 0; i < l.n; ++i)
        kernels::max_unpool_2x2_blocked(which + (first + i) * z.codes, py + i * z.quarter,
                                        std::size_t(z.groups), std::size_t(z.block), int(sh.ho),
                                        int(sh.wo), out + i * z.full);
    };
    const dnnl_memory_t dyw = l.pool_dyw ? k.dyw.get() : k.y.get();
    if (rounded) {
      unpool(handle<std::uint16_t>(dyw));
    } else {
      unpool(handle(k.y.get()));
      if (l.pool_dyw) run_in(l.pool_dyw, c.s, scratch, k.y.get(), k.dyw_mid, dyw);
    }
    dnnl_memory_t dym = nullptr;
    if (dx) {
      dym = shared ? dyw : l.pool_dy ? k.dy.get() : k.y.get();
      if (l.pool_dy && !shared) run_in(l.pool_dy, c.s, scratch, k.y.get(), k.dy_mid, dym);
    }
    backward_from(c, l, k, first, dyw, dym, x, w, dx, dw, accumulate);
    accumulate = true;
  });
}

}  // namespace kiln::engine
