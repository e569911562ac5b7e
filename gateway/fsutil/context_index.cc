// ContextIndex persistence. File layout (little endian):
//   "KILNCTX1" | u64 count | count x record | 32-byte sha256 of all before
//   record = u32 path_len | path | i64 size | i64 mtime | i64 ctime |
//            u64 ino | u64 dev | u32 mode | u32 uid | u32 gid | u8 trusted |
//            32-byte content digest
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/context.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/internal/sys.h"
#include "gateway/fsutil/tree.h"
#include "sdk/base/digest.h"

namespace kiln::fsutil {
namespace {

using fsutil_internal::UniqueFd;

constexpr std::string_view kMagic = "KILNCTX1";
constexpr size_t kDigestBytes = 32;

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool HexToRaw(const std::string& hex, std::string* out) {
  if (hex.size() != 2 * kDigestBytes) return false;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexVal(hex[i]), lo = HexVal(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

std::string RawToHex(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(raw.size() * 2, '0');
  for (size_t i = 0; i < raw.size(); ++i) {
    unsigned char c = raw[i];
    out[2 * i] = kHex[c >> 4];
    out[2 * i + 1] = kHex[c & 15];
  }
  return out;
}

// Bounds-checked little-endian reader.
class Reader {
 public:
  explicit Reader(std::string_view data) : d_(data) {}
  bool U64(uint64_t* v) {
    if (d_.size() < 8) return false;
    *v = 0;
    for (int i = 7; i >= 0; --i) *v = (*v << 8) | static_cast<unsigned char>(d_[i]);
    d_.remove_prefix(8);
    return true;
  }
  bool U32(uint32_t* v) {
    uint64_t x = 0;
    if (d_.size() < 4) return false;
    for (int i = 3; i >= 0; --i) x = (x << 8) | static_cast<unsigned char>(d_[i]);
    d_.remove_prefix(4);
    *v = static_cast<uint32_t>(x);
    return true;
  }
  bool I64(int64_t* v) {
    uint64_t x;
    if (!U64(&x)) return false;
    *v = static_cast<int64_t>(x);
    return true;
  }
  bool Bytes(size_t n, std::string_view* out) {
    if (d_.size() < n) return false;
    *out = d_.substr(0, n);
    d_.remove_prefix(n);
    return true;
  }

 private:
  std::string_view d_;
};

bool ReadRecord(Reader& r, std::string* path, ContextRecord* rec) {
  uint32_t len;
  std::string_view p, flag, digest;
  if (!r.U32(&len) || !r.Bytes(len, &p)) return false;
  if (!r.I64(&rec->size) || !r.I64(&rec->mtime_ns) || !r.I64(&rec->ctime_ns) || !r.U64(&rec->ino) ||
      !r.U64(&rec->dev) || !r.U32(&rec->mode) || !r.U32(&rec->uid) || !r.U32(&rec->gid) ||
      !r.Bytes(1, &flag) || !r.Bytes(kDigestBytes, &digest)) {
    return false;
  }
  path->assign(p.data(), p.size());
  rec->trusted = flag[0] == 1;
  rec->digest_hex = RawToHex(digest);
  return true;
}

bool ReadWholeFile(const std::string& path, std::string* out) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  out->resize(st.st_size);
  size_t off = 0;
  while (off < out->size()) {
    ssize_t n = read(fd.get(), out->data() + off, out->size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += n;
  }
  return true;
}

}  // namespace

std::string ContextIndexPath(const std::string& state_dir, const std::string& dir,
                             const std::string& name) {
  return absl::StrCat(state_dir, "/", Sha256Hex(dir + "\n" + name), ".idx");
}

ContextIndex ContextIndex::Load(const std::string& path) {
  ContextIndex idx;
  std::string data;
  if (!ReadWholeFile(path, &data) || data.size() < kMagic.size() + 8 + kDigestBytes) return idx;
  std::string_view body(data.data(), data.size() - kDigestBytes);
  std::string_view trailer(data.data() + body.size(), kDigestBytes);
  if (body.substr(0, kMagic.size()) != kMagic) return idx;
  std::string want;
  if (!HexToRaw(Sha256Hex(body), &want) || want != trailer) return idx;
  Reader r(body.substr(kMagic.size()));
  uint64_t count;
  if (!r.U64(&count)) return idx;
  idx.records_.reserve(std::min<uint64_t>(count, 1 << 20));
  for (uint64_t i = 0; i < count; ++i) {
    std::string rel;
    ContextRecord rec;
    if (!ReadRecord(r, &rel, &rec)) return ContextIndex();
    idx.records_.insert_or_assign(std::move(rel), std::move(rec));
  }
  return idx;
}

std::string ContextIndex::Encode() const {
  std::string out(kMagic);
  PutU64(&out, records_.size());
  for (const auto& [rel, rec] : records_) {
    PutU32(&out, rel.size());
    out += rel;
    PutU64(&out, rec.size);
    PutU64(&out, rec.mtime_ns);
    PutU64(&out, rec.ctime_ns);
    PutU64(&out, rec.ino);
    PutU64(&out, rec.dev);
    PutU32(&out, rec.mode);
    PutU32(&out, rec.uid);
    PutU32(&out, rec.gid);
    std::string raw;
    bool valid = HexToRaw(rec.digest_hex, &raw);
    // A record without a usable digest must never be reused.
    out.push_back(rec.trusted && valid ? 1 : 0);
    out += valid ? raw : std::string(kDigestBytes, '\0');
  }
  HexToRaw(Sha256Hex(out), &out);
  return out;
}

absl::Status ContextIndex::Save(const std::string& path) const {
  std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  {
    UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) return ErrnoToStatus(errno, "create", tmp);
    absl::Status s = WriteAll(fd.get(), Encode(), tmp);
    if (s.ok() && fsync(fd.get()) != 0) s = ErrnoToStatus(errno, "fsync", tmp);
    if (!s.ok()) {
      unlink(tmp.c_str());
      return s;
    }
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return ErrnoToStatus(err, "rename", path);
  }
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  UniqueFd dfd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.valid()) fsync(dfd.get());
  return absl::OkStatus();
}

const ContextRecord* ContextIndex::Find(std::string_view rel) const {
  auto it = records_.find(absl::string_view(rel.data(), rel.size()));
  return it == records_.end() ? nullptr : &it->second;
}

void ContextIndex::Put(std::string rel, ContextRecord record) {
  records_.insert_or_assign(std::move(rel), std::move(record));
  dirty_ = true;
}

}  // namespace kiln::fsutil
