// The compute engine's matrix product: one oneDNN matmul primitive for one fixed shape, created
// when a trainer is built (the arena plan knows every shape) and run every step with pointers
// only: no primitive creation, allocation or reorder inside a step. oneDNN generates its kernels
// for the CPU at run time (AVX-512, AVX512_BF16, AMX); measured on a Zen 5 at the MLP's shapes,
// 1 thread: 180–200 GFLOP/s in f32 against OpenBLAS's 75–95, 330–390 with bf16 inputs.
//
// kiln's team stays the one scheduler: a primitive runs single-threaded inside the team member
// that calls it (each member sets its own OpenMP thread count to 1 before its first product),
// and each member has its own scratchpad and argument set, so members run the same primitive at
// once. KILN_ONEDNN_THREADS=N instead lets oneDNN's OpenMP run N threads inside each product
// (for measuring the alternative; combine it with a team of one and OMP_WAIT_POLICY=passive).
//
// This header does not include oneDNN: a trainer's translation unit sees only this interface,
// and matmul.cpp is compiled once (kiln_engine).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace kiln::engine {

// The element type of a product's inputs; the output and the accumulation are always f32.
enum class precision : std::uint8_t { f32, bf16 };

// C[m×n] (+)= A[m×k]·B[k×n] (+ bias[n]), every matrix given by its row and column strides in
// elements (a transposed operand is a swap of strides). m = 0 or k = 0: that dimension is given
// with each run, 1 to `most` (a partial batch), through a primitive made for any value; the
// argument descriptors of every value are made with it.
struct product {
  long m = 0, n = 0, k = 0;
  long most = 0;  // m = 0 or k = 0: the largest value a run passes
  long a_row = 0, a_col = 1;
  long b_row = 0, b_col = 1;
  long c_row = 0;           // C's columns are contiguous
  bool accumulate = false;  // C += A·B (a weight gradient summed over samples)
  bool bias = false;        // + bias[n], f32, added to every row
  precision in = precision::f32;
};

class matmul {
 public:
  matmul() noexcept;
  // Creates the primitive and, for each of `members` threads, its arguments and scratchpad.
  // Throws kiln::error when oneDNN has no implementation for the shape.
  matmul(const product& p, int members);
  matmul(matmul&&) noexcept;
  matmul& operator=(matmul&&) noexcept;
  ~matmul();

  // Runs the product on the calling thread as team member `member`: a, b are f32 or bf16
  // (uint16) as the product's precision says. `size`: m or k, for a product made with it 0.
  void run(int member, const void* a, const void* b, float* c, const float* bias = nullptr,
           long size = 0) const;
  explicit operator bool() const noexcept { return bool(impl_); }
  // oneDNN's name for the implementation it chose ("brg:avx512_core", ...).
  std::string implementation() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// True on a thread while it is inside oneDNN's primitive execute. oneDNN 2.6 builds each call's
// argument map (exec_ctx_t, a std::unordered_map) on the heap: a few small allocations per product
// that kiln cannot avoid through the public API. Allocation counters (tests/support) leave
// them out by this flag; kiln's own code allocates nothing in a step.
bool inside_onednn() noexcept;

// Whether this CPU runs bf16 dot products natively (AVX512_BF16 or AMX); when it does not, a
// bf16 plan says so once and runs its products in f32.
bool has_bf16();
// The feature a bf16 plan would use here, or what is missing ("AVX512_BF16").
const char* bf16_feature();
// Called once by a bf16 trainer at construction: prints the one line when the CPU lacks bf16.
// Returns the precision the products will run in.
precision effective(precision wanted);

// Rounds f32 to bf16 (nearest, ties to even) and back: n values. Vectorized (Highway).
void to_bf16(const float* x, std::uint16_t* y, std::size_t n);
void from_bf16(const std::uint16_t* x, float* y, std::size_t n);

// The f32 matmul peak of one core, measured now: a 512×512×512 product through oneDNN on the
// calling thread, best of `repeats` (GFLOP/s). What the benchmarks' FLOP-bound lines use.
double peak_gflops(precision in = precision::f32, int repeats = 20);

}  // namespace kiln::engine
