#include "kiln/runtime/parallel/distributed.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "kiln/core/error.hpp"

namespace kiln::rt {
namespace {

// The ranks whose value is not rank 0's, as "1, 3".
std::string differing(const std::vector<std::uint64_t>& values) {
  std::string ranks;
  for (std::size_t r = 1; r < values.size(); ++r)
    if (values[r] != values[0]) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
  return ranks;
}

// FNV-1a over 32-bit words: fast enough to run every epoch on millions of values, and any
// changed bit changes it. The length goes in too: where one span ends and the next begins.
template <class T>
std::uint64_t mix(std::uint64_t h, std::span<const T> values) {
  static_assert(sizeof(T) == 4);
  for (const T& v : values) {
    std::uint32_t word;
    std::memcpy(&word, &v, sizeof word);
    h = (h ^ word) * 1099511628211ull;
  }
  return (h ^ values.size()) * 1099511628211ull;
}

std::uint64_t finish(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

constexpr std::uint64_t fnv_basis = 14695981039346656037ull;

}  // namespace

std::uint64_t tensor_hash(const model& m) {
  std::uint64_t h = fnv_basis;
  for (const tensor& t : m.tensors()) h = mix(h, std::span<const float>(t.data));
  return finish(h);
}

std::uint64_t data_hash(const dataset& d) {
  std::uint64_t h = mix(fnv_basis, std::span<const int>(d.sample_shape));
  h = mix(h, std::span<const float>(d.x));
  h = mix(h, std::span<const std::int32_t>(d.labels));
  return finish(mix(h, std::span<const float>(d.targets)));
}

void require_same(const comm& c, const std::string& what, std::uint64_t value) {
  if (!c.distributed()) return;
  const auto all = c.gather(value, "a setting every rank must share");
  if (const std::string ranks = differing(all); !ranks.empty())
    throw config_error(what, "differs between ranks: rank" +
                                 std::string(ranks.find(',') == std::string::npos ? " " : "s ") +
                                 ranks +
                                 " and rank 0 (start every rank with the same "
                                 "command line, program and data)");
}

void require_same_weights(const comm& c, const model& m, const std::string& when) {
  if (!c.distributed()) return;
  const auto all = c.gather(tensor_hash(m), "the weights' hash");
  if (const std::string ranks = differing(all); !ranks.empty())
    throw error("data-parallel: weights differ between ranks after " + when + " (rank" +
                (ranks.find(',') == std::string::npos ? " " : "s ") + ranks +
                " against rank 0): the ranks no longer train the same model");
}

void broadcast_model(const comm& c, model& m, int root) {
  if (!c.distributed()) return;
  for (const tensor& t : m.tensors()) c.broadcast(t.data, root, "the model's tensors");
  // The step count, the generator and the schedule's own state (whatever values it saves), as
  // words.
  resume_state s = m.save_resume_state();
  std::vector<std::uint64_t> words = {static_cast<std::uint64_t>(s.steps),
                                      s.rng[0],
                                      s.rng[1],
                                      s.rng[2],
                                      s.rng[3],
                                      s.schedule.size()};
  c.broadcast(std::span(words), root, "the model's step count and generator");
  std::copy(words.begin() + 1, words.begin() + 5, s.rng.begin());
  s.steps = static_cast<long>(words[0]);
  words.resize(words[5]);
  for (std::size_t i = 0; i < s.schedule.size() && i < words.size(); ++i)
    words[i] = std::bit_cast<std::uint64_t>(s.schedule[i]);
  c.broadcast(std::span(words), root, "the model's schedule state");
  s.schedule.resize(words.size());
  for (std::size_t i = 0; i < words.size(); ++i) s.schedule[i] = std::bit_cast<double>(words[i]);
  m.load_resume_state(s);
}

placement place_members(int members, int ranks, int rank) {
  if (members < 1) throw config_error("members", "must be at least 1");
  if (ranks < 1 || rank < 0 || rank >= ranks)
    throw config_error("rank", std::to_string(rank) + " of " + std::to_string(ranks));
  placement p;
  p.groups = std::min(members, ranks);
  p.group = rank % p.groups;
  for (int k = p.group; k < members; k += p.groups) p.members.push_back(k);
  return p;
}

}  // namespace kiln::rt
