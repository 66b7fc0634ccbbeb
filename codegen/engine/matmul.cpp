// matmul.hpp through oneDNN 2.6 (Debian's libdnnl, OpenMP runtime). Primitives are made with the
// C++ API at construction; a run sets data handles and executes through the C API with an
// argument array kept in the object: nothing is allocated per run.
#include "kiln/codegen/engine/matmul.hpp"

#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kiln/codegen/engine/bf16-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kiln/codegen/engine/bf16-inl.h"
#include "kiln/codegen/engine/onednn.hpp"
#include "kiln/core/error.hpp"

#if HWY_ONCE
namespace kiln::engine {

HWY_EXPORT(ConvertToBF16);
HWY_EXPORT(ConvertFromBF16);

void to_bf16(const float* x, std::uint16_t* y, std::size_t n) {
  HWY_DYNAMIC_DISPATCH(ConvertToBF16)(x, y, n);
}
void from_bf16(const std::uint16_t* x, float* y, std::size_t n) {
  HWY_DYNAMIC_DISPATCH(ConvertFromBF16)(x, y, n);
}

namespace {

using dt = dnnl::memory::data_type;

// Threads oneDNN may use inside one product: 1 (kiln's team schedules), or KILN_ONEDNN_THREADS.
int omp_threads() {
  static const int n = [] {
    const char* s = std::getenv("KILN_ONEDNN_THREADS");
    const int v = s ? std::atoi(s) : 1;
    return v >= 1 ? v : 1;
  }();
  return n;
}

thread_local bool inside = false;

dt type_of(precision p) { return p == precision::bf16 ? dt::bf16 : dt::f32; }

dnnl::memory::desc strided(long rows, long cols, dt t, long row, long col) {
  return dnnl::memory::desc({rows, cols}, t, dnnl::memory::dims{row, col});
}

}  // namespace

namespace detail {

// Each thread that creates or runs a primitive fixes its own OpenMP thread count once (an
// OpenMP ICV is per thread): primitives are created for, and run with, that many.
void pin_threads() {
  thread_local const bool done = [] {
    omp_set_num_threads(omp_threads());
    return true;
  }();
  (void)done;
}

dnnl::engine& cpu() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

void execute(const_dnnl_primitive_t p, dnnl_stream_t s, int nargs, const dnnl_exec_arg_t* args) {
  inside = true;
  dnnl_primitive_execute(p, s, nargs, args);
  inside = false;
}

}  // namespace detail

using detail::cpu;
using detail::pin_threads;

// One member's arguments: memory objects whose data handles are set per run, the stream it runs
// on, its scratchpad; for a product with a varying dimension, the two operands that carry it,
// once per value.
struct matmul::impl {
  product shape;
  dnnl::matmul prim;
  std::string name;
  struct member {
    dnnl::stream stream;
    std::vector<char> scratch;
    dnnl::memory scratch_mem, bias;
    // [v]: the operands for dimension value v (v = 0: the fixed shape).
    std::vector<dnnl::memory> a, b, c;
    dnnl_exec_arg_t args[5];
  };
  std::vector<member> members;
};

matmul::matmul(const product& p, int members) : impl_(std::make_unique<impl>()) {
  pin_threads();
  impl& m = *impl_;
  m.shape = p;
  const dt in = type_of(p.in);
  const long any = DNNL_RUNTIME_DIM_VAL;
  const long M = p.m > 0 ? p.m : any, K = p.k > 0 ? p.k : any;
  if (p.m <= 0 && p.k <= 0) throw error("kiln engine: a product varies in m or in k, not both");
  if ((p.m <= 0 || p.k <= 0) && p.most < 1)
    throw error("kiln engine: a varying product needs most");
  const auto a = strided(M, p.k > 0 ? p.k : any, in, p.a_row, p.a_col);
  const auto b = strided(K, p.n, in, p.b_row, p.b_col);
  const auto c = strided(M, p.n, dt::f32, p.c_row, 1);
  const auto bias = dnnl::memory::desc({1, p.n}, dt::f32, dnnl::memory::dims{p.n, 1});
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (p.accumulate) {
    dnnl::post_ops po;
    po.append_sum(1.0f);
    attr.set_post_ops(po);
  }
  dnnl::matmul::primitive_desc pd;
  try {
    pd = p.bias ? dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, bias, c), attr, cpu())
                : dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), attr, cpu());
  } catch (const dnnl::error& e) {
    throw error("kiln engine: oneDNN has no matmul for " + std::to_string(p.m) + "x" +
                std::to_string(p.n) + "x" + std::to_string(p.k) + ": " + e.what());
  }
  m.prim = dnnl::matmul(pd);
  m.name = pd.impl_info_str();
  const std::size_t scratch = pd.scratchpad_desc().get_size();
  const long values = p.m > 0 && p.k > 0 ? 0 : p.most;
  m.members.resize(std::size_t(std::max(members, 1)));
  for (auto& w : m.members) {
    w.stream = dnnl::stream(cpu());
    w.scratch.resize(scratch + 64);
    w.scratch_mem = dnnl::memory(pd.scratchpad_desc(), cpu(), w.scratch.data());
    if (p.bias) w.bias = dnnl::memory(bias, cpu(), static_cast<void*>(DNNL_MEMORY_NONE));
    for (long v = 0; v <= values; ++v) {
      if (v == 0 && values > 0) {  // no fixed shape: slot 0 unused
        w.a.emplace_back(), w.b.emplace_back(), w.c.emplace_back();
        continue;
      }
      const long mv = p.m > 0 ? p.m : v, kv = p.k > 0 ? p.k : v;
      w.a.emplace_back(strided(mv, kv, in, p.a_row, p.a_col), cpu(),
                       static_cast<void*>(DNNL_MEMORY_NONE));
      w.b.emplace_back(strided(kv, p.n, in, p.b_row, p.b_col), cpu(),
                       static_cast<void*>(DNNL_MEMORY_NONE));
      w.c.emplace_back(strided(mv, p.n, dt::f32, p.c_row, 1), cpu(),
                       static_cast<void*>(DNNL_MEMORY_NONE));
    }
  }
}

matmul::matmul() noexcept = default;
matmul::matmul(matmul&&) noexcept = default;
matmul& matmul::operator=(matmul&&) noexcept = default;
matmul::~matmul() = default;

std::string matmul::implementation() const { return impl_ ? impl_->name : ""; }

void matmul::run(int member, const void* a, const void* b, float* c, const float* bias,
                 long size) const {
  pin_threads();
  impl& m = *impl_;
  auto& w = m.members[std::size_t(member)];
  const std::size_t v = m.shape.m > 0 && m.shape.k > 0 ? 0 : std::size_t(size);
  const dnnl_memory_t am = w.a[v].get(), bm = w.b[v].get(), cm = w.c[v].get();
  dnnl_memory_set_data_handle(am, const_cast<void*>(a));
  dnnl_memory_set_data_handle(bm, const_cast<void*>(b));
  dnnl_memory_set_data_handle(cm, c);
  int n = 0;
  w.args[n++] = {DNNL_ARG_SRC, am};
  w.args[n++] = {DNNL_ARG_WEIGHTS, bm};
  w.args[n++] = {DNNL_ARG_DST, cm};
  w.args[n++] = {DNNL_ARG_SCRATCHPAD, w.scratch_mem.get()};
  if (m.shape.bias) {
    dnnl_memory_set_data_handle(w.bias.get(), const_cast<float*>(bias));
    w.args[n++] = {DNNL_ARG_BIAS, w.bias.get()};
  }
  detail::execute(m.prim.get(), w.stream.get(), n, w.args);
}

bool inside_onednn() noexcept { return inside; }

bool has_bf16() {
  static const bool yes = [] {
    pin_threads();
    // cpu_isa values are sets of feature bits: AMX and later include AVX512_BF16's.
    const auto isa = unsigned(dnnl::get_effective_cpu_isa());
    const auto bf16 = unsigned(dnnl::cpu_isa::avx512_core_bf16);
    return (isa & bf16) == bf16;
  }();
  return yes;
}

const char* bf16_feature() { return "AVX512_BF16"; }

precision effective(precision wanted) {
  if (wanted != precision::bf16 || has_bf16()) return wanted;
  static std::once_flag said;
  std::call_once(said, [] {
    std::fprintf(stderr,
                 "kiln: this CPU has no %s (bf16 dot products): the bf16 plan runs its "
                 "products in f32\n",
                 bf16_feature());
  });
  return precision::f32;
}

double peak_gflops(precision in, int repeats) {
  constexpr long n = 512;
  product p;
  p.m = p.n = p.k = n;
  p.a_row = p.b_row = p.c_row = n;
  p.in = effective(in);
  const matmul mm(p, 1);
  const std::size_t bytes = p.in == precision::bf16 ? 2 : 4;
  std::vector<char> a(n * n * bytes), b(n * n * bytes);
  std::vector<float> c(n * n);
  std::fill(a.begin(), a.end(), 0), std::fill(b.begin(), b.end(), 0);
  auto clock = [] {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
  };
  double best = 1e30;
  mm.run(0, a.data(), b.data(), c.data());
  for (int r = 0; r < repeats; ++r) {
    const double t0 = clock();
    for (int i = 0; i < 4; ++i) mm.run(0, a.data(), b.data(), c.data());
    best = std::min(best, (clock() - t0) / 4);
  }
  return 2.0 * n * n * n / best / 1e9;
}

}  // namespace kiln::engine
#endif  // HWY_ONCE
