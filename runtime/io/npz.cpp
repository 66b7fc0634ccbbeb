#include "kiln/runtime/io/npz.hpp"

#include <zip.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/cursor.hpp"
#include "kiln/runtime/io/file.hpp"
#include "kiln/runtime/io/foreign.hpp"
#include "kiln/runtime/io/npy.hpp"

namespace kiln::rt {
namespace {

namespace fs = std::filesystem;

// What the members of one archive may inflate to, together: zip bombs stop here.
constexpr std::uint64_t max_inflated = std::uint64_t{1} << 34;
// The end-of-central-directory record without its comment.
constexpr std::uint64_t end_record = 22;
// A central directory of 65535 members with 300-byte names takes 22 MB.
constexpr std::uint64_t max_directory = std::uint64_t{1} << 26;

struct archive_closer {
  void operator()(zip_t* z) const noexcept { zip_discard(z); }
};
using archive_ptr = std::unique_ptr<zip_t, archive_closer>;

struct member_closer {
  void operator()(zip_file_t* f) const noexcept { zip_fclose(f); }
};
using member_ptr = std::unique_ptr<zip_file_t, member_closer>;

// A member as the npy reader's cursor reads it: inflated (and CRC-checked) by libzip.
class member_stream : public io::stream {
 public:
  member_stream(zip_file_t* f, const std::string& where) : f_(f), where_(where) {}
  std::size_t read(std::uint8_t* dst, std::size_t n) override {
    const zip_int64_t got = zip_fread(f_, dst, n);
    if (got < 0) throw file_error(where_, std::string("corrupt member: ") + zip_file_strerror(f_));
    return static_cast<std::size_t>(got);
  }

 private:
  zip_file_t* f_;
  const std::string& where_;
};

// What is read past a member's first error to let its CRC speak: small, so that a member that
// claims gigabytes is not inflated for a better message.
constexpr std::uint64_t max_crc_drain = std::uint64_t{1} << 24;

// Reads `s` to its end (libzip checks the CRC there and throws "corrupt member" through
// member_stream).
void drain(io::stream& s) {
  std::uint8_t sink[4096];
  for (std::uint64_t total = 0; total <= max_crc_drain;) {
    const std::size_t got = s.read(sink, sizeof sink);
    if (got == 0) return;
    total += got;
  }
}

// libzip reads the central directory whole, where the end record says it is: what that record
// (or ZIP64's) claims is checked against the file first, from its last bytes.
void require_directory(io::cursor& c) {
  if (c.size() == 0) c.fail("not a valid zip archive: the file is empty");
  if (c.size() < end_record) return;  // libzip names it
  const std::uint64_t tail_size = std::min<std::uint64_t>(c.size(), end_record + 0xffff);
  std::vector<std::uint8_t> tail(static_cast<std::size_t>(tail_size));
  c.seek(c.size() - tail_size);
  c.read(tail.data(), tail.size(), "the end record");
  c.seek(0);
  std::size_t p = tail.size() - end_record + 1;
  do {                     // the last record whose comment ends the file
    if (p-- == 0) return;  // none: libzip names it
  } while (std::memcmp(&tail[p], "PK\5\6", 4) != 0 ||
           p + end_record + io::load_le<std::uint16_t>(&tail[p + 20]) != tail.size());
  const std::uint64_t record_at = c.size() - tail.size() + p;
  std::uint64_t members = io::load_le<std::uint16_t>(&tail[p + 10]);
  std::uint64_t size = io::load_le<std::uint32_t>(&tail[p + 12]);
  std::uint64_t offset = io::load_le<std::uint32_t>(&tail[p + 16]);
  std::uint64_t ends = record_at;  // where the central directory must end
  if ((members == 0xffff || size == 0xffffffff || offset == 0xffffffff) && p >= 20 &&
      std::memcmp(&tail[p - 20], "PK\6\7", 4) == 0) {
    // ZIP64: a locator before the end record points to a larger record.
    const std::uint64_t zip64_at = io::load_le<std::uint64_t>(&tail[p - 20 + 8]);
    if (zip64_at > record_at - 20 || record_at - 20 - zip64_at < 56)
      c.fail("not a valid zip archive: its ZIP64 end record at byte " + std::to_string(zip64_at) +
             " does not fit before its locator");
    c.seek(zip64_at);
    std::uint8_t r[56];
    c.read(r, sizeof r, "the ZIP64 end record");
    c.seek(0);
    if (std::memcmp(r, "PK\6\6", 4) != 0)
      c.fail("not a valid zip archive: no ZIP64 end record where its locator points");
    members = io::load_le<std::uint64_t>(r + 32);
    size = io::load_le<std::uint64_t>(r + 40);
    offset = io::load_le<std::uint64_t>(r + 48);
    ends = zip64_at;
  }
  if (offset > ends || size > ends - offset)
    c.fail("not a valid zip archive: its central directory (" + std::to_string(size) +
           " bytes at byte " + std::to_string(offset) + ") does not end before byte " +
           std::to_string(ends));
  if (size > max_directory)
    c.fail("not a valid zip archive: its central directory of " + std::to_string(size) +
           " bytes is more than the 64 MiB kiln reads");
  if (members > size / 46)  // each entry takes at least 46 bytes
    c.fail("not a valid zip archive: " + std::to_string(members) +
           " members cannot fit its central directory of " + std::to_string(size) + " bytes");
}

std::vector<std::string> member_names(zip_t* z) {
  std::vector<std::string> names;
  const zip_int64_t members = zip_get_num_entries(z, 0);
  for (zip_int64_t i = 0; i < members; ++i)
    if (const char* name = zip_get_name(z, static_cast<zip_uint64_t>(i), 0)) names.push_back(name);
  return names;
}

// What scipy.sparse.save_npz put in format.npy ('csr', as <U3 or |S3): its letters.
std::string sparse_format(zip_t* z) {
  std::string letters;
  member_ptr f(zip_fopen(z, "format.npy", 0));
  std::uint8_t b[512];
  const zip_int64_t got = f ? zip_fread(f.get(), b, sizeof b) : -1;
  if (got <= 0) return letters;
  const std::uint8_t* end = b + got;
  const std::uint8_t* data = std::find(static_cast<const std::uint8_t*>(b), end,
                                       std::uint8_t{10});  // the header ends with a newline
  for (const auto* p = data; p < end; ++p)
    if (std::isalpha(*p)) letters += static_cast<char>(*p);
  return letters.size() <= 8 ? letters : std::string();
}

tensor_file read_archive(zip_t* z, const std::string& path) {
  const std::vector<std::string> names = member_names(z);
  if (io::is_pytorch_zip(names)) throw file_error(path, io::pytorch_checkpoint(path));
  if (io::is_scipy_sparse(names)) throw file_error(path, io::scipy_sparse(path, sparse_format(z)));
  tensor_file out;
  out.path = path;
  out.format = "npz";
  const zip_int64_t members = zip_get_num_entries(z, 0);
  std::uint64_t inflated = 0;
  for (zip_int64_t i = 0; i < members; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        !(st.valid & ZIP_STAT_NAME) || !(st.valid & ZIP_STAT_SIZE))
      throw file_error(path, "member " + std::to_string(i) + ": unreadable entry");
    std::string name = st.name;
    const std::string where = path + ": member '" + io::printable(name) + "'";
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
    // The member's header first, then its values inflated straight into the tensor.
    member_ptr f(zip_fopen_index(z, static_cast<zip_uint64_t>(i), 0));
    if (!f) throw file_error(where, std::string("cannot open: ") + zip_strerror(z));
    member_stream s(f.get(), where);
    io::cursor c(s, st.size, where, "the member");
    try {
      out.tensors.push_back(read_npy(c, name));
    } catch (const file_error&) {
      // A damaged member is parsed before libzip can check its CRC at the end: when what is
      // left is small, read it to the end so that the CRC names the damage rather than the
      // garbage it made.
      if (c.left() <= max_crc_drain) drain(s);
      throw;
    }
    // One byte more finds a member that inflates past its size, and lets libzip check the CRC.
    std::uint8_t more;
    if (s.read(&more, 1) != 0) throw file_error(where, "inflates past the size it declares");
  }
  return out;
}

tensor_file open_archive(zip_source_t* source, zip_error_t& error, const std::string& path) {
  archive_ptr z(zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error));
  if (!z) {
    zip_source_free(source);
    // libzip's "File already exists" is about the archive, not the disk.
    const std::string problem = zip_error_code_zip(&error) == ZIP_ER_EXISTS
                                    ? "two members have the same name"
                                    : zip_error_strerror(&error);
    zip_error_fini(&error);
    throw file_error(path, "not a valid zip archive: " + problem);
  }
  return read_archive(z.get(), path);
}

}  // namespace

tensor_file read_npz(const fs::path& path) {
  const io::input_file file(path);
  io::cursor c(file);
  require_directory(c);
  // libzip reads the archive where it lies, through a descriptor of the file checked above.
  const int fd = ::dup(file.descriptor());
  std::FILE* f = fd >= 0 ? ::fdopen(fd, "rb") : nullptr;
  if (!f) {
    if (fd >= 0) ::close(fd);
    throw file_error(file.path(), std::string("cannot read: ") + std::strerror(errno));
  }
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_filep_create(f, 0, -1, &error);
  if (!source) {
    std::fclose(f);
    throw file_error(file.path(), "libzip: " + std::string(zip_error_strerror(&error)));
  }
  return open_archive(source, error, file.path());
}

tensor_file parse_npz(std::span<const std::uint8_t> bytes, const std::string& path) {
  io::cursor c(bytes, path);
  require_directory(c);
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!source) throw file_error(path, "libzip: " + std::string(zip_error_strerror(&error)));
  return open_archive(source, error, path);
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
