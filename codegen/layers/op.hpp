// What a layer's kernels see in one step. Each layer kind specializes `op<Descriptor, Input>`
// (codegen/layers/<kind>.hpp) with:
//   static constexpr dsl::shape out;         // shape of one output sample
//   static constexpr int aux = 0;            // scratch floats per sample (masks, probabilities)
//   static constexpr bool view = false;      // true: output aliases the input (flatten)
//   static constexpr std::size_t work = 0;   // optional: scratch floats per batch, any n
//   static engine::holder prepare(const engine::setup&);  // optional: its engine objects
//                                            // (products), made when the trainer is built
//   static void forward(const op_args&);
//   static void backward(const op_args&);         // writes gw (overwrites) and dx when dx !=
//   nullptr
// Kernels split their work across op_args::team: parallel_for (one fixed part per member) or finer
// chunks (products), both claimed by the members (engine::claim), so that one descheduled
// member does not hold up the others.
// Losses instead provide `loss_forward` / `loss_backward` (see loss.hpp).
// Forward and backward of one step see the same aux, work and rng draws; op_args::train selects the
// training behaviour (batch statistics, random masks), op_args::commit says the forward belongs to
// a step whose side effects count (running statistics move).
#pragma once

#include <array>
#include <cstddef>

#include "kiln/codegen/engine/ops.hpp"
#include "kiln/dsl/model.hpp"
#include "kiln/core/comm.hpp"
#include "kiln/core/team.hpp"
#include "kiln/core/rng.hpp"

namespace kiln::codegen {

struct op_args {
  int n = 0;  // samples in this batch
  bool train = true;
  const float* x = nullptr;   // n × input
  float* y = nullptr;         // n × output
  const float* dy = nullptr;  // n × output (backward)
  float* dx = nullptr;        // n × input, nullptr when no one needs it (the first layer)
  const float* w = nullptr;   // this layer's parameters, at param_offsets()
  float* gw = nullptr;        // their gradients, same layout
  float* aux = nullptr;       // n × op::aux floats, kept from forward to backward
  rt::rng* rng = nullptr;     // this step's draws (masks, regions), reseeded every forward
  rt::team* team = nullptr;   // the threads a kernel may split its work across
  float* work = nullptr;      // op::work floats, kept from forward to backward
  float* buf = nullptr;       // this layer's buffers (running statistics), at buffer_offsets()
  bool commit = false;        // train_step or gradient(): update running statistics
  void* prims = nullptr;      // the op's engine objects (op::prepare), or nullptr
  // bf16 plans: the bf16 copy of this layer's parameters (same offsets as w), written by the
  // fused update; nullptr in f32.
  const std::uint16_t* wh = nullptr;
  // Data-parallel training: these n samples are [offset, offset + n) of a global batch of
  // `total` samples spread over the ranks of `comm`. Losses average over the whole batch, batch
  // statistics are combined over the ranks, per-sample draws (dropout masks) are those the
  // samples get in the whole batch. Alone: offset 0, total 0 (= n), no comm.
  int offset = 0, total = 0;
  const rt::comm* comm = nullptr;
  int global() const noexcept { return total > 0 ? total : n; }
  bool synced() const noexcept { return comm && comm->distributed(); }
};
// The earlier name of op_args: "io" also names kiln's files (runtime/io/, rt::io), so the
// arguments of an op's call took their own name. Ops written against it still compile.
using io [[deprecated("kiln: codegen::io is now codegen::op_args (codegen/layers/op.hpp)")]] =
    op_args;

// Runs f(part) on every member of the team, each with its static part of [0, total).
template <class F>
void parallel_for(const op_args& c, std::size_t total, std::size_t align, F&& f) {
  // One part per member, as a static split would give, but claimed (engine::claim): when a
  // member is descheduled, whoever is free runs its part; the parts, and so the results, are
  // the same whoever runs them.
  const int parts = c.team->size();
  engine::claim(c.team, parts, [&](int, long j) {
    const auto r = rt::share_of(total, parts, int(j), align);
    if (r.size()) f(r);
  });
}

template <auto Layer, dsl::shape In>
struct op;

// Layouts of chains: the model (Start = {}: it begins with input<...>) or a residual block's
// body (Start: the shape entering it). Defined in codegen/layout.hpp.
template <auto Chain, dsl::shape Start = dsl::shape{}>
struct layout;

template <class Op>
constexpr std::size_t work_of() {
  if constexpr (requires { Op::work; })
    return Op::work;
  else
    return 0;
}

// Parameter tensors are 64-byte aligned inside the arenas.
inline constexpr std::size_t align_floats = 16;
constexpr std::size_t aligned(std::size_t n) {
  return (n + align_floats - 1) / align_floats * align_floats;
}

// Where each parameter tensor of a layer starts, relative to the layer's first one; the last
// entry is the layer's total (aligned) size.
template <class L>
constexpr auto param_offsets(const L& layer, dsl::shape in) {
  const auto ps = dsl::params_of(layer, in);
  std::array<std::size_t, ps.size() + 1> off{};
  for (std::size_t i = 0; i < ps.size(); ++i)
    off[i + 1] = off[i] + aligned(std::size_t(ps[i].dims.size()));
  return off;
}

// The same for a layer's buffers, in the buffer arena.
template <class L>
constexpr auto buffer_offsets(const L& layer, dsl::shape in) {
  const auto bs = dsl::buffers_of(layer, in);
  std::array<std::size_t, bs.size() + 1> off{};
  for (std::size_t i = 0; i < bs.size(); ++i)
    off[i + 1] = off[i] + aligned(std::size_t(bs[i].dims.size()));
  return off;
}

}  // namespace kiln::codegen
