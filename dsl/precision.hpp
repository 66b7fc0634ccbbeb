// The number format of a plan's matrix products: f32, or bf16 inputs with f32 accumulation
// (mixed precision). Master weights, gradients, optimizer state, checkpoints and ONNX exports
// stay f32 either way; a bf16 plan keeps a bf16 copy of the weights that the fused update writes
// in the same pass. `.precision = kiln::bf16` in a training_plan.
#pragma once

namespace kiln {
namespace dsl {
enum class numeric_type { f32, bf16 };
}  // namespace dsl
inline constexpr dsl::numeric_type f32 = dsl::numeric_type::f32;
inline constexpr dsl::numeric_type bf16 = dsl::numeric_type::bf16;
}  // namespace kiln
