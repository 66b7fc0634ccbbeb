// Which Highway target runs each tensor's fused update, chosen once when a trainer is built.
// Out of cache an update waits for memory, and on some cores 256-bit loads and stores stream
// faster than 512-bit ones (simd_bench, docs/optimizers.md): there a large tensor's update runs
// on AVX2 although dispatch would pick an AVX-512 target. The choice depends on the CPU and the
// tensor's size only, so it is the same on every run on one kind of CPU; checkpoints record it,
// so that a resumed run keeps the loops (and the rounding) of the run it continues.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::codegen {

// How a CPU streams out of cache, from its CPUID vendor and family (table in width.cpp).
struct stream_profile {
  std::string cpu;                   // e.g. "AMD family 26", for messages and benchmarks
  bool narrow_out_of_cache = false;  // 256-bit loops beat 512-bit ones beyond `cache_bytes`
  std::size_t cache_bytes = 0;       // a tensor whose update moves more bytes is out of cache
};
const stream_profile& this_cpu_streams();

// The target for one tensor's update. `available`: the compiled targets this CPU supports (bits,
// a lower bit the better target, as hwy::SupportedTargets() & HWY_TARGETS in the trainer's own
// translation unit, since suites compile fewer targets than the library); `traffic`: the bytes
// one update reads and writes.
std::int64_t update_target(std::int64_t available, std::size_t traffic, const stream_profile& cpu);

// The bytes one update of `n` weights moves: weights and gradient, `states` state vectors,
// an averaged copy (read and written), a bf16 copy (written).
std::size_t update_traffic(std::size_t n, int states, bool averaged, bool half);

// A trainer's choice for its tensors of `sizes` weights: `named`'s target for every one when
// given (required_target), else update_target for each from its traffic.
void choose_update_targets(std::span<const std::size_t> sizes, int states, bool averaged, bool half,
                           std::string_view named, std::int64_t available,
                           std::span<std::int64_t> out);

// Checkpoint metadata: one target name per tensor, comma-separated ("AVX2,AVX3_DL,...").
std::string target_names(std::span<const std::int64_t> targets);

// The target named `name` if it is in `available`, else 0.
std::int64_t target_named(std::string_view name, std::int64_t available);

// trainer_options::update_target: the named target, which must be in `available`
// (config_error "update_target" otherwise).
std::int64_t required_target(std::string_view name, std::int64_t available);

// A checkpoint's recorded targets applied to `chosen` (this run's own choice, one per tensor):
// each recorded target this CPU can run replaces the choice. Names it cannot run (another CPU)
// keep the choice and are reported on stderr once: the resumed run is then not bit-identical to
// an uninterrupted one. Throws config_error when the list does not hold one name per tensor.
void apply_recorded_targets(std::string_view recorded, std::int64_t available,
                            std::span<std::int64_t> chosen);

}  // namespace kiln::codegen
