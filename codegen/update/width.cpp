#include "kiln/codegen/update/width.hpp"

#include <hwy/targets.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "kiln/core/error.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace kiln::codegen {
namespace {

// Cores whose update loops stream faster at 256 bits than at 512 once a tensor leaves the cache,
// measured with simd_bench (docs/optimizers.md, "Update loops per CPU"). Beyond `cache` bytes of
// traffic an update is out of cache: the last-level cache one core reaches (Zen 4 and Zen 5:
// 32 MiB per CCD). Other CPUs keep dispatch's choice until measured.
struct narrow_core {
  const char* vendor;
  unsigned family;
  std::size_t cache;
};
constexpr narrow_core narrow_cores[] = {
    {"AuthenticAMD", 0x19, std::size_t(32) << 20},  // Zen 4 (Zen 3 has no AVX-512)
    {"AuthenticAMD", 0x1A, std::size_t(32) << 20},  // Zen 5
};

stream_profile detect() {
  stream_profile p;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return p;
  char vendor[13] = {};
  for (int i = 0; i < 4; ++i) {
    vendor[i] = char(b >> (8 * i));
    vendor[4 + i] = char(d >> (8 * i));
    vendor[8 + i] = char(c >> (8 * i));
  }
  if (!__get_cpuid(1, &a, &b, &c, &d)) return p;
  unsigned family = (a >> 8) & 0xF;
  if (family == 0xF) family += (a >> 20) & 0xFF;
  p.cpu = std::string(vendor) + " family " + std::to_string(family);
  for (const narrow_core& n : narrow_cores)
    if (vendor == std::string_view(n.vendor) && family == n.family) {
      p.narrow_out_of_cache = true;
      p.cache_bytes = n.cache;
    }
#else
  p.cpu = "not x86";
#endif
  return p;
}

constexpr std::int64_t wide_targets = HWY_AVX3 | HWY_AVX3_DL;

}  // namespace

const stream_profile& this_cpu_streams() {
  static const stream_profile p = detect();
  return p;
}

std::int64_t update_target(std::int64_t available, std::size_t traffic, const stream_profile& cpu) {
  const std::int64_t best = available & -available;
  if (cpu.narrow_out_of_cache && traffic > cpu.cache_bytes && (best & wide_targets) != 0 &&
      (available & HWY_AVX2) != 0)
    return HWY_AVX2;
  return best;
}

std::size_t update_traffic(std::size_t n, int states, bool averaged, bool half) {
  // p read and written, g read, each state read and written, the average read and written,
  // the bf16 copy written.
  const std::size_t streams = 3 + 2 * std::size_t(states) + (averaged ? 2 : 0);
  return n * (streams * sizeof(float) + (half ? 2 : 0));
}

void choose_update_targets(std::span<const std::size_t> sizes, int states, bool averaged, bool half,
                           std::string_view named, std::int64_t available,
                           std::span<std::int64_t> out) {
  const std::int64_t forced = named.empty() ? 0 : required_target(named, available);
  for (std::size_t t = 0; t < sizes.size(); ++t)
    out[t] = forced != 0
                 ? forced
                 : update_target(available, update_traffic(sizes[t], states, averaged, half),
                                 this_cpu_streams());
}

std::string target_names(std::span<const std::int64_t> targets) {
  std::string out;
  for (const std::int64_t t : targets) {
    if (!out.empty()) out += ',';
    out += hwy::TargetName(t);
  }
  return out;
}

std::int64_t target_named(std::string_view name, std::int64_t available) {
  for (std::int64_t t = available; t != 0; t &= t - 1)
    if (name == hwy::TargetName(t & -t)) return t & -t;
  return 0;
}

std::int64_t required_target(std::string_view name, std::int64_t available) {
  if (const std::int64_t t = target_named(name, available)) return t;
  std::string have;
  for (std::int64_t t = available; t != 0; t &= t - 1)
    have.append(have.empty() ? "" : ", ").append(hwy::TargetName(t & -t));
  throw config_error("update_target", "'" + std::string(name) +
                                          "' is not a target compiled in and supported by this "
                                          "CPU (available: " +
                                          have + ")");
}

void apply_recorded_targets(std::string_view recorded, std::int64_t available,
                            std::span<std::int64_t> chosen) {
  std::vector<std::string_view> names;
  for (std::size_t at = 0;;) {
    const std::size_t comma = recorded.find(',', at);
    names.push_back(recorded.substr(at, comma == recorded.npos ? recorded.npos : comma - at));
    if (comma == recorded.npos) break;
    at = comma + 1;
  }
  if (names.size() != chosen.size())
    throw config_error("update loops", "the checkpoint names " + std::to_string(names.size()) +
                                           " tensors' targets, this model has " +
                                           std::to_string(chosen.size()));
  // Each name this CPU lacks once (a substring search would take AVX3 for part of AVX3_DL).
  std::vector<std::string_view> lacking;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (const std::int64_t t = target_named(names[i], available))
      chosen[i] = t;
    else if (std::find(lacking.begin(), lacking.end(), names[i]) == lacking.end())
      lacking.push_back(names[i]);
  }
  std::string missing;
  for (const std::string_view n : lacking) missing.append(missing.empty() ? "" : ", ").append(n);
  if (!missing.empty())
    std::fprintf(stderr,
                 "kiln: the checkpoint's update loops ran on %s, which this CPU cannot run; "
                 "resuming with this CPU's choice (the weights will differ in their last bits "
                 "from an uninterrupted run)\n",
                 missing.c_str());
}

}  // namespace kiln::codegen
