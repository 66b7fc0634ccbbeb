// Per-target declarations shared by every update stage: `stage<Descriptor>` is specialized by
// each optimizer (a `step`) and each gradient regularizer (a `grad`) in its own <name>-inl.h.
#if defined(KILN_CODEGEN_UPDATE_STAGE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_UPDATE_STAGE_INL_H_
#undef KILN_CODEGEN_UPDATE_STAGE_INL_H_
#else
#define KILN_CODEGEN_UPDATE_STAGE_INL_H_
#endif

#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace kiln::codegen::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <auto Descriptor>
struct stage;

// This step's values every gradient stage may read, broadcast once per call.
template <class D>
struct step_vecs {
  hn::Vec<D> clip;  // clip_norm's scale
};

}  // namespace kiln::codegen::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
