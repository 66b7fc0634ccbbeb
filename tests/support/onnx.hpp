// Exported graphs against kiln: onnx.checker (Debian's python3-onnx) validates the file, ONNX
// Runtime (npm's onnxruntime-node, installed by the export_onnxruntime fixture) runs it on real
// Fashion-MNIST test images, and its logits must equal kiln's predict within what rounding allows.
//
// Both sides compute the same float32 operations; they differ only in the order of the sums
// inside every dot product (OpenBLAS and kiln's kernels against ONNX Runtime's MLAS, which also
// folds batch norm into the convolution before it) and in where a multiply-add is fused. The
// zoo's MLP and CNN, the residual net and the test-time CNN pass each logit its own bound: 6σ of
// the random walk of those roundings through the layers (tests/support/rounding_walk.hpp; the
// logits stay within 0.1σ to 1.6σ). Every other graph (the layer tour, GELU, layer norm, and
// tests/own_data's two) passes each output the same walk's bound computed on the exported graph
// itself (tests/support/onnx_walk.py, numpy over its nodes), with the approximations of tanh,
// sigmoid and erf added worst case: kiln's stated in ulp, ONNX Runtime's measured in the same
// run. A graph that is wrong in any of its semantics (a missing stochastic-depth scale of 0.5
// or 0.75, batch norm with batch statistics, a dropout not removed, another padding or pooling
// region, another epsilon even) moves logits by 1e-3 to 10 (the residual graph without its 0.75
// and 0.5 scales: 5.6), far outside either bound.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "kiln/runtime/data/dataset.hpp"
#include "kiln/runtime/data/fashion_mnist.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/onnx_export.hpp"
#include "kiln/runtime/model.hpp"
#include "files.hpp"
#include "program.hpp"

namespace kiln::test {

// The Fashion-MNIST test set, read once.
inline const rt::train_test& fashion() {
  static const rt::train_test data = rt::fashion_mnist();
  return data;
}

// The first `n` test images, as the readers hand them over (pixel / 255), 1x28x28 each.
inline std::vector<float> test_images(std::size_t n) {
  const rt::dataset& t = fashion().test;
  return {t.x.begin(), t.x.begin() + long(n * t.sample_size())};
}

// onnx.checker.check_model with full_check (shape inference too): true when the graph is valid.
inline bool onnx_checker_accepts(const std::filesystem::path& file, const std::string& stem) {
  const program_result r = run_program(std::string(KILN_PYTHON) +
                                           " -c 'import sys, onnx; m = onnx.load(sys.argv[1]); "
                                           "onnx.checker.check_model(m, full_check=True); "
                                           "print(\"opset\", m.opset_import[0].version)' " +
                                           file.string(),
                                       stem);
  BOOST_TEST_MESSAGE("onnx.checker: " << (r.out.empty() ? "" : r.out[0])
                                      << (r.err.empty() ? "" : " " + r.err.back()));
  return r.code == 0 && !r.out.empty() && r.out[0] == "opset 13";
}

// ONNX Runtime's output for input x [n, shape...].
inline std::vector<float> onnxruntime(const std::filesystem::path& file,
                                      const std::vector<float>& x, std::vector<std::size_t> shape,
                                      const std::string& stem) {
  const std::filesystem::path in = stem + ".in.npy", out = stem + ".logits.npy";
  rt::write_npy(in, shape, std::span<const float>(x));
  std::filesystem::remove(out);
  const program_result r = run_program(std::string("node ") + KILN_RUN_ONNX + " " + file.string() +
                                           " " + in.string() + " " + out.string(),
                                       stem + ".node");
  BOOST_TEST_INFO("node: " << (r.err.empty() ? "" : r.err.back()));
  BOOST_REQUIRE(r.code == 0);
  return rt::read_npy(out).tensors.at(0).values;
}

inline double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  BOOST_REQUIRE(a.size() == b.size());
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(double(a[i]) - b[i]));
  return d;
}

inline double largest(const std::vector<float>& a) {
  double m = 0;
  for (float v : a) m = std::max(m, std::fabs(double(v)));
  return m;
}

// Exports m, checks the file with onnx.checker, runs it with ONNX Runtime on `x` and compares
// with `expected` (kiln's predict), each logit within `bounds` (one a logit: the random walk of
// tests/support/rounding_walk.hpp) or, without, within the walk of the exported graph
// (tests/support/onnx_walk.py). Returns the largest difference.
inline double exported_equals_kiln(const rt::model& m, const rt::standardization& stats,
                                   const std::vector<float>& x, const std::vector<float>& expected,
                                   const std::string& name,
                                   const std::vector<double>& bounds = {}) {
  const std::filesystem::path file = name + ".onnx";
  rt::write_onnx(file, m, stats);
  BOOST_TEST(onnx_checker_accepts(file, name + ".checker"));
  std::vector<std::size_t> shape{expected.size() / std::size_t(m.info().outputs)};
  for (int d : m.info().input) shape.push_back(std::size_t(d));
  const std::vector<float> got = onnxruntime(file, x, shape, name);
  const double diff = max_difference(got, expected);
  BOOST_TEST_MESSAGE(name << ": largest |logit| " << largest(expected)
                          << ", largest difference ONNX Runtime - kiln " << diff);
  if (bounds.empty()) {
    const std::string kiln = name + ".kiln.npy";
    rt::write_npy(kiln, std::vector<std::size_t>{got.size()}, std::span<const float>(expected));
    const program_result r = run_program(std::string(KILN_PYTHON) + " " + KILN_ONNX_WALK + " " +
                                             file.string() + " " + name + ".in.npy " + kiln + " " +
                                             name + ".logits.npy " + KILN_RUN_ONNX + " .",
                                         name + ".walk");
    BOOST_TEST_MESSAGE((r.out.empty() ? "onnx_walk: no output" : r.out.back()));
    BOOST_TEST(r.code == 0, name << ": " << (r.err.empty() ? "onnx_walk failed" : r.err.back()));
  } else {
    BOOST_REQUIRE(bounds.size() == got.size());
    double sigmas = 0;  // the largest difference in σ (bounds are 6σ)
    for (std::size_t i = 0; i < got.size(); ++i) {
      const double d = std::fabs(double(got[i]) - expected[i]);
      BOOST_TEST(d <= bounds[i], name << ": logit " << i << " differs by " << d);
      sigmas = std::max(sigmas, 6 * d / bounds[i]);
    }
    BOOST_TEST_MESSAGE(name << ": within " << sigmas << "σ");
  }
  return diff;
}

}  // namespace kiln::test

namespace kiln::test {

// A few training steps on the first Fashion-MNIST training images (standardized by `stats` when
// given), so that running statistics, masks' effects and weights are those of a real model.
inline void train_a_little(rt::model& m, int steps, const rt::standardization& stats = {}) {
  const rt::dataset& train = fashion().train;
  const auto batch = std::size_t(m.info().batch), size = train.sample_size();
  std::vector<float> x(batch * size);
  for (int s = 0; s < steps; ++s) {
    const std::size_t first = std::size_t(s) * batch;
    std::copy_n(train.x.begin() + long(first * size), x.size(), x.begin());
    stats.apply(std::span<float>(x));
    const rt::step_result r = m.train_step({int(batch), x.data(), train.labels.data() + first});
    BOOST_REQUIRE(std::isfinite(r.loss_sum));
  }
}

}  // namespace kiln::test
