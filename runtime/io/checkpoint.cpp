#include "kiln/runtime/io/checkpoint.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/import.hpp"
#include "kiln/runtime/io/safetensors.hpp"

namespace kiln::rt {
namespace {

constexpr const char* format_key = "kiln.checkpoint";
constexpr const char* format_version = "1";
constexpr long max_schedule_values = 64;

std::string hex64(std::uint64_t v) {
  char s[20];
  std::snprintf(s, sizeof s, "%016" PRIx64, v);
  return s;
}

// Doubles as C99 hex floats: exact, so resumed metrics match to the last bit.
std::string exact(double v) {
  char s[40];
  std::snprintf(s, sizeof s, "%a", v);
  return s;
}

class metadata_reader {
 public:
  metadata_reader(const std::map<std::string, std::string>& m, const std::string& path)
      : m_(m), path_(path) {}

  bool has(const std::string& key) const { return m_.count(key) > 0; }
  const std::string& text(const std::string& key) const {
    const auto it = m_.find(key);
    if (it == m_.end()) fail(key, "missing");
    return it->second;
  }
  std::uint64_t u64(const std::string& key) const {
    const std::string& s = text(key);
    // Digits only: strtoull alone would take " 12", "+12" and wrap "-1" around.
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || errno != 0)
      fail(key, io::quoted(s) + " is not a non-negative integer");
    return v;
  }
  long i64(const std::string& key, long max) const {
    const std::uint64_t v = u64(key);
    if (v > static_cast<std::uint64_t>(max))
      fail(key, "value " + std::to_string(v) + " is out of range");
    return static_cast<long>(v);
  }
  double real(const std::string& key) const {
    const std::string& s = text(key);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || std::isspace(static_cast<unsigned char>(s[0])))
      fail(key, io::quoted(s) + " is not a number");
    return v;
  }

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    throw file_error(path_, "checkpoint metadata '" + key + "': " + problem);
  }

 private:
  const std::map<std::string, std::string>& m_;
  const std::string& path_;
};

}  // namespace

bool is_checkpoint(const std::map<std::string, std::string>& metadata) {
  return metadata.count(format_key) > 0;
}

void save_checkpoint(const std::filesystem::path& path, const model& m, const checkpoint_info& c) {
  const resume_state rs = m.save_resume_state();
  std::map<std::string, std::string> meta = {
      {format_key, format_version},
      {"kiln.fingerprint", m.fingerprint()},
      {"kiln.steps", std::to_string(rs.steps)},
      {"kiln.rng", hex64(rs.rng[0]) + hex64(rs.rng[1]) + hex64(rs.rng[2]) + hex64(rs.rng[3])},
      {"kiln.epoch", std::to_string(c.at.epoch)},
      {"kiln.batch_in_epoch", std::to_string(c.at.batch)},
      {"kiln.epoch_loss_sum", exact(c.at.loss_sum)},
      {"kiln.epoch_correct", std::to_string(c.at.correct)},
      {"kiln.epoch_seen", std::to_string(c.at.seen)},
      {"kiln.epoch_seconds", exact(c.at.seconds)},
      {"kiln.seed", std::to_string(c.seed)},
      {"kiln.batch", std::to_string(c.batch)},
      {"kiln.epoch_skipped", std::to_string(c.at.skipped)},
      {"kiln.fault_lr", exact(rs.fault_lr)},
      {"kiln.skipped_in_a_row", std::to_string(rs.skipped_in_a_row)},
  };
  if (!rs.update_loops.empty()) meta["kiln.update_loops"] = rs.update_loops;
  if (!rs.schedule.empty()) {
    meta["kiln.schedule.count"] = std::to_string(rs.schedule.size());
    for (std::size_t i = 0; i < rs.schedule.size(); ++i)
      meta["kiln.schedule." + std::to_string(i)] = exact(rs.schedule[i]);
  }
  std::vector<tensor_ref> refs;
  for (const tensor& t : m.tensors()) {
    tensor_ref r{t.name, {}, t.data};
    for (int d : t.shape) r.shape.push_back(static_cast<std::size_t>(d));
    refs.push_back(std::move(r));
  }
  write_safetensors(path, refs, meta);
}

checkpoint_metadata read_checkpoint_metadata(const tensor_file& file) {
  const metadata_reader meta(file.metadata, file.path);
  if (!is_checkpoint(file.metadata))
    throw file_error(file.path, "not a kiln checkpoint (no kiln.checkpoint in __metadata__)");
  if (meta.text(format_key) != format_version)
    meta.fail(format_key, "version " + io::printable(meta.text(format_key)) +
                              " is not supported (expected " + format_version + ")");
  checkpoint_metadata out;
  out.fingerprint = meta.text("kiln.fingerprint");
  resume_state& rs = out.state;
  rs.steps = meta.i64("kiln.steps", 1L << 62);
  const std::string& rng = meta.text("kiln.rng");
  if (rng.size() != 64 || rng.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    meta.fail("kiln.rng", "expected 64 hex digits");
  for (int k = 0; k < 4; ++k)
    rs.rng[k] = std::strtoull(rng.substr(16 * k, 16).c_str(), nullptr, 16);
  // The learning-rate schedule's own state, the values it saves (none for most schedules);
  // load_checkpoint compares their count with the model's.
  const std::size_t held =
      meta.has("kiln.schedule.count")
          ? static_cast<std::size_t>(meta.i64("kiln.schedule.count", max_schedule_values))
          : 0;
  for (std::size_t i = 0; i < held; ++i)
    rs.schedule.push_back(meta.real("kiln.schedule." + std::to_string(i)));
  checkpoint_info& c = out.info;
  c.at.epoch = static_cast<int>(meta.i64("kiln.epoch", 1 << 30));
  c.at.batch = meta.i64("kiln.batch_in_epoch", 1L << 62);
  c.at.loss_sum = meta.real("kiln.epoch_loss_sum");
  c.at.correct = meta.i64("kiln.epoch_correct", 1L << 62);
  c.at.seen = static_cast<std::size_t>(meta.i64("kiln.epoch_seen", 1L << 62));
  c.at.seconds = meta.real("kiln.epoch_seconds");
  c.seed = meta.u64("kiln.seed");
  c.batch = static_cast<int>(meta.i64("kiln.batch", 1 << 30));
  if (c.batch < 1) meta.fail("kiln.batch", "must be at least 1");
  // Keys checkpoints gained later: a checkpoint without them resumes with their defaults.
  if (meta.has("kiln.epoch_skipped")) c.at.skipped = meta.i64("kiln.epoch_skipped", 1L << 62);
  if (meta.has("kiln.skipped_in_a_row"))
    rs.skipped_in_a_row = meta.i64("kiln.skipped_in_a_row", 1L << 62);
  if (meta.has("kiln.fault_lr")) {
    rs.fault_lr = meta.real("kiln.fault_lr");
    if (!(rs.fault_lr > 0 && rs.fault_lr <= 1)) meta.fail("kiln.fault_lr", "must be in (0, 1]");
  }
  if (meta.has("kiln.update_loops")) {
    rs.update_loops = meta.text("kiln.update_loops");
    if (rs.update_loops.empty() ||
        rs.update_loops.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_,") !=
            std::string::npos)
      meta.fail("kiln.update_loops",
                "expected target names separated by commas, got " + io::printable(rs.update_loops));
  }
  return out;
}

checkpoint_info load_checkpoint(const std::filesystem::path& path, model& m) {
  return load_checkpoint(read_safetensors(path), m);
}

checkpoint_info load_checkpoint(const tensor_file& file, model& m) {
  const checkpoint_metadata c = read_checkpoint_metadata(file);
  if (c.fingerprint != m.fingerprint())
    throw file_error(file.path, "written for another model or plan (fingerprint " +
                                    io::printable(c.fingerprint) + ", this model's is " +
                                    m.fingerprint() + ")");
  // As many schedule values as this model's schedule keeps (none for a stateless one).
  if (const std::size_t wanted = m.save_resume_state().schedule.size();
      c.state.schedule.size() != wanted)
    metadata_reader(file.metadata, file.path)
        .fail("kiln.schedule.count", "holds " + std::to_string(c.state.schedule.size()) +
                                         " learning-rate schedule values, this plan keeps " +
                                         std::to_string(wanted));
  // One update loop per parameter tensor, as many as this model names (a model that names none,
  // or an older checkpoint without them: not compared).
  const auto named = [](const std::string& list) {
    return list.empty() ? 0 : std::count(list.begin(), list.end(), ',') + 1;
  };
  if (const auto mine = named(m.save_resume_state().update_loops),
      held = named(c.state.update_loops);
      mine != 0 && held != 0 && mine != held)
    metadata_reader(file.metadata, file.path)
        .fail("kiln.update_loops", "names the loops of " + std::to_string(held) +
                                       " tensors, this model has " + std::to_string(mine));
  // Everything checked: now the model changes (load_weights validates before writing too).
  import_options everything;
  everything.names = naming::dsl;
  everything.optimizer_state = true;
  load_weights(m, file, everything);
  m.load_resume_state(c.state);
  return c.info;
}

}  // namespace kiln::rt
