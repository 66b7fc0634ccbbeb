#include "kiln/runtime/io/npz.hpp"

#include <zip.h>

#include <memory>
#include <string>
#include <vector>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/npy.hpp"

namespace kiln::rt {
namespace {

namespace fs = std::filesystem;

// What the members of one archive may inflate to, together: zip bombs stop here.
constexpr std::uint64_t max_inflated = std::uint64_t{1} << 34;

struct archive_closer {
  void operator()(zip_t* z) const noexcept { zip_discard(z); }
};
using archive_ptr = std::unique_ptr<zip_t, archive_closer>;

struct member_closer {
  void operator()(zip_file_t* f) const noexcept { zip_fclose(f); }
};
using member_ptr = std::unique_ptr<zip_file_t, member_closer>;

std::vector<std::uint8_t> read_member(zip_t* z, zip_uint64_t index, const zip_stat_t& st,
                                      const std::string& where) {
  member_ptr f(zip_fopen_index(z, index, 0));
  if (!f) throw file_error(where, std::string("cannot open: ") + zip_strerror(z));
  // Grow towards the declared size as data really arrives; one byte more detects a lie.
  std::vector<std::uint8_t> out;
  std::uint64_t filled = 0;
  for (;;) {
    if (filled == out.size())
      out.resize(
          std::min<std::uint64_t>(st.size + 1, std::max<std::uint64_t>(1 << 16, 2 * filled)));
    const zip_int64_t got = zip_fread(f.get(), out.data() + filled, out.size() - filled);
    if (got < 0)
      throw file_error(where, std::string("corrupt member: ") + zip_file_strerror(f.get()));
    if (got == 0) break;
    filled += static_cast<std::uint64_t>(got);
    if (filled > st.size) throw file_error(where, "inflates past the size it declares");
  }
  if (filled != st.size)
    throw file_error(where, "truncated: declares " + std::to_string(st.size) + " bytes, holds " +
                                std::to_string(filled));
  out.resize(filled);
  return out;
}

}  // namespace

tensor_file read_npz(const fs::path& path) { return parse_npz(io::read_file(path), path.string()); }

tensor_file parse_npz(std::span<const std::uint8_t> bytes, const std::string& path_text) {
  const fs::path path(path_text);
  // libzip takes no bytes for an empty archive, ready to be written; a reader wants at least
  // the end-of-directory record.
  if (bytes.empty()) throw file_error(path_text, "not a valid zip archive: the file is empty");
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!source) throw file_error(path_text, "libzip: " + std::string(zip_error_strerror(&error)));
  archive_ptr z(zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error));
  if (!z) {
    zip_source_free(source);
    // libzip's "File already exists" is about the archive, not the disk.
    const std::string problem = zip_error_code_zip(&error) == ZIP_ER_EXISTS
                                    ? "two members have the same name"
                                    : zip_error_strerror(&error);
    zip_error_fini(&error);
    throw file_error(path_text, "not a valid zip archive: " + problem);
  }

  tensor_file out;
  out.path = path_text;
  out.format = "npz";
  const zip_int64_t members = zip_get_num_entries(z.get(), 0);
  std::uint64_t inflated = 0;
  for (zip_int64_t i = 0; i < members; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        !(st.valid & ZIP_STAT_NAME) || !(st.valid & ZIP_STAT_SIZE))
      throw file_error(path.string(), "member " + std::to_string(i) + ": unreadable entry");
    std::string name = st.name;
    const std::string where = path.string() + ": member '" + io::printable(name) + "'";
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0)
      throw file_error(where, "not a .npy member (an .npz holds only .npy files)");
    if (!(st.valid & ZIP_STAT_COMP_SIZE) || !(st.valid & ZIP_STAT_COMP_METHOD))
      throw file_error(where, "unreadable entry");
    if (st.valid & ZIP_STAT_ENCRYPTION_METHOD && st.encryption_method != ZIP_EM_NONE)
      throw file_error(where, "encrypted members are not supported");
    // NumPy stores or deflates; other methods (bzip2, LZMA, ...) are more decoder to trust for
    // nothing. What a member declares must fit what its compressed bytes can become.
    if (st.comp_method == ZIP_CM_STORE) {
      if (st.size != st.comp_size)
        throw file_error(where, "stored member declares " + std::to_string(st.size) +
                                    " bytes but holds " + std::to_string(st.comp_size));
    } else if (st.comp_method == ZIP_CM_DEFLATE) {
      if (st.size / io::max_deflate_ratio > st.comp_size)
        throw file_error(where, "declares " + std::to_string(st.size) + " bytes, more than " +
                                    std::to_string(st.comp_size) +
                                    " deflated bytes can inflate to");
    } else {
      throw file_error(where, "compression method " + std::to_string(st.comp_method) +
                                  " is not supported (stored or deflated members are)");
    }
    if (st.size > max_inflated - inflated)
      throw file_error(where, "inflates to " + std::to_string(st.size) +
                                  " bytes, past the archive limit of " +
                                  std::to_string(max_inflated));
    inflated += st.size;
    name.resize(name.size() - 4);
    if (out.find(name)) throw file_error(where, "the name appears twice");
    const auto bytes = read_member(z.get(), static_cast<zip_uint64_t>(i), st, where);
    out.tensors.push_back(parse_npy(bytes, where, name));
  }
  return out;
}

void write_npz(const fs::path& path, std::span<const tensor_ref> tensors, bool compress) {
  // Built in memory, then written atomically like every kiln file.
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!buffer)
    throw file_error(path.string(), "libzip: " + std::string(zip_error_strerror(&error)));
  zip_source_keep(buffer);  // we read it back after closing the archive
  std::unique_ptr<zip_source_t, decltype(&zip_source_free)> keep(buffer, zip_source_free);
  zip_t* z = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (!z) throw file_error(path.string(), "libzip: " + std::string(zip_error_strerror(&error)));
  archive_ptr archive(z);

  std::vector<std::vector<std::uint8_t>> members;  // alive until zip_close reads them
  members.reserve(tensors.size());
  for (const tensor_ref& t : tensors) {
    members.push_back(serialize_npy(t.shape, t.values));
    zip_source_t* s = zip_source_buffer(z, members.back().data(), members.back().size(), 0);
    const zip_int64_t index =
        s ? zip_file_add(z, (t.name + ".npy").c_str(), s, ZIP_FL_ENC_UTF_8) : -1;
    if (index < 0) {
      if (s) zip_source_free(s);
      throw file_error(path.string(), "libzip: " + std::string(zip_strerror(z)));
    }
    zip_set_file_compression(z, static_cast<zip_uint64_t>(index),
                             compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  if (zip_close(archive.get()) != 0)
    throw file_error(path.string(), "libzip: " + std::string(zip_strerror(archive.get())));
  archive.release();

  zip_stat_t st;
  if (zip_source_stat(buffer, &st) != 0 || zip_source_open(buffer) != 0)
    throw file_error(path.string(), "libzip: cannot read the archive back");
  std::vector<std::uint8_t> bytes(st.size);
  const zip_int64_t got = zip_source_read(buffer, bytes.data(), bytes.size());
  zip_source_close(buffer);
  if (got != static_cast<zip_int64_t>(bytes.size()))
    throw file_error(path.string(), "libzip: cannot read the archive back");
  io::write_file_atomically(path, bytes);
}

}  // namespace kiln::rt
