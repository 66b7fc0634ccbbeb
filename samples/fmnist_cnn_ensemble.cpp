// An ensemble of fmnist_cnn models trained separately: `fmnist_cnn --seed k --out run_k` saves
// run_k/model.safetensors; this loads K such files and reports each member's test accuracy, the
// mean member's, the majority vote's, how much the members disagree (the share of images on which
// all agree, the share at least one gets right) and, last, the averaged-probability ensemble's as
// `test_accuracy=`. Members from seeds 0..K-1 are the members `fmnist_cnn --members K` would
// train side by side (member k: initialization and sample order from seed k), here trained
// with any thread count, one after the other or on other machines. Evaluation follows the
// plan (flip averaging included).
//
//   fmnist_cnn_ensemble [--data DIR] [--threads N] run_0/model.safetensors run_1/... ...
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <kiln/runtime/ensemble/ensemble.hpp>

#include "common/command_line.hpp"

#include "fmnist_cnn.hpp"

int main(int argc, char** argv) {
  namespace rt = kiln::rt;
  std::string data_dir = rt::fashion_mnist_dir().string();
  int threads = 1;
  std::vector<std::string> files;
  common::command_line cl("Evaluates separately trained fmnist_cnn runs as one ensemble.",
                          "fmnist_cnn_ensemble");
  cl.add("--data", data_dir, "the Fashion-MNIST folder").show_default();
  cl.add("--threads", threads, "threads of each member's evaluation").positive().show_default();
  cl.add("weights", files, "each member's model.safetensors (fmnist_cnn --out DIR)").required();
  if (const auto status = cl.parse(argc, argv)) return *status;
  if (files.size() < 2) {
    std::fprintf(stderr, "error: an ensemble needs at least 2 weight files, got %zu\n",
                 files.size());
    return 2;
  }
  try {
    const rt::train_test data = rt::fashion_mnist(data_dir);
    std::vector<std::unique_ptr<kiln::trainer<model, plan>>> owned;
    std::vector<rt::model*> members;
    for (const auto& f : files) {
      owned.push_back(
          std::make_unique<kiln::trainer<model, plan>>(kiln::trainer_options{.threads = threads}));
      rt::load_trained(*owned.back(), std::filesystem::path(f));  // no standardization here
      members.push_back(owned.back().get());
    }
    const rt::ensemble_result r = rt::evaluate_ensemble(members, data.test, plan.batch);
    for (std::size_t k = 0; k < files.size(); ++k)
      std::printf("member_%zu_test_accuracy=%.4f (%s)\n", k, r.member_accuracy[k],
                  files[k].c_str());
    std::printf("mean_member_test_accuracy=%.4f\n", r.mean_member_accuracy);
    std::printf("vote_test_accuracy=%.4f\n", r.vote_accuracy);
    std::printf("unanimous=%.4f\n", r.unanimous);  // share of images every member classes alike
    std::printf("any_member_test_accuracy=%.4f\n", r.any_member_accuracy);  // no vote beats it
    // the shares of images that exactly 0, 1, …, K members get right
    std::printf("members_right=%s\n", rt::members_right(r).c_str());
    std::printf("test_accuracy=%.4f\n", r.accuracy);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
