#include "gateway/cache/content_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gateway/cache/fs.h"
#include "gateway/fsutil/errors.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"

namespace kiln::cache {

absl::StatusOr<std::string> ContentStore::Put(std::string_view data) {
  KILN_ASSIGN_OR_RETURN(auto w, NewWriter());
  KILN_RETURN_IF_ERROR(w->Write(data));
  return w->Commit("");
}

namespace {

absl::Status CheckExpected(const std::string& expected, const std::string& got) {
  if (expected.empty() || expected == got) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("blob digest mismatch: expected ", expected, ", got ", got));
}

class DiskWriter : public BlobWriter {
 public:
  DiskWriter(std::string root, std::string tmp, int fd)
      : root_(std::move(root)), tmp_(std::move(tmp)), fd_(fd) {}
  ~DiskWriter() override {
    if (fd_ >= 0) close(fd_);
    if (!committed_) unlink(tmp_.c_str());
  }
  absl::Status Write(std::string_view chunk) override {
    hash_.Update(chunk);
    while (!chunk.empty()) {
      ssize_t n = write(fd_, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fsutil::ErrnoToStatus(errno, "write", tmp_);
      chunk.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> Commit(const std::string& expected) override {
    std::string digest = hash_.Digest();
    KILN_RETURN_IF_ERROR(CheckExpected(expected, digest));
    if (fsync(fd_) != 0) return fsutil::ErrnoToStatus(errno, "fsync", tmp_);
    close(fd_);
    fd_ = -1;
    std::string dest = absl::StrCat(root_, "/blobs/sha256/", DigestHex(digest));
    if (rename(tmp_.c_str(), dest.c_str()) != 0) return fsutil::ErrnoToStatus(errno, "store", dest);
    committed_ = true;
    return digest;
  }

 private:
  std::string root_, tmp_;
  int fd_;
  Sha256 hash_;
  bool committed_ = false;
};

class DiskContentStore : public ContentStore {
 public:
  explicit DiskContentStore(std::string root) : root_(std::move(root)) {}

  absl::StatusOr<std::unique_ptr<BlobWriter>> NewWriter() override {
    std::string tmp = absl::StrCat(root_, "/ingest/", cache_internal::NewId());
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return fsutil::ErrnoToStatus(errno, "create", tmp);
    return std::make_unique<DiskWriter>(root_, tmp, fd);
  }

  absl::StatusOr<std::string> Get(const std::string& digest) override {
    std::string out;
    KILN_RETURN_IF_ERROR(ReadTo(digest, [&out](std::string_view chunk) {
      out.append(chunk);
      return absl::OkStatus();
    }));
    return out;
  }

  absl::StatusOr<int64_t> Size(const std::string& digest) override {
    KILN_RETURN_IF_ERROR(ValidateDigest(digest));
    struct stat st;
    std::string path = Path(digest);
    if (stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return absl::NotFoundError("blob " + digest + " not found");
      return fsutil::ErrnoToStatus(errno, "stat", path);
    }
    return static_cast<int64_t>(st.st_size);
  }

  absl::Status ReadTo(const std::string& digest,
                      const std::function<absl::Status(std::string_view)>& sink) override {
    KILN_RETURN_IF_ERROR(ValidateDigest(digest));
    std::string path = Path(digest);
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return absl::NotFoundError("blob " + digest + " not found");
    if (fd < 0) return fsutil::ErrnoToStatus(errno, "open", path);
    std::vector<char> buf(1 << 20);
    ssize_t n;
    absl::Status st;
    while (st.ok() && (n = read(fd, buf.data(), buf.size())) > 0) {
      st = sink(std::string_view(buf.data(), static_cast<size_t>(n)));
    }
    if (st.ok() && n < 0) st = fsutil::ErrnoToStatus(errno, "read", path);
    close(fd);
    return st;
  }

  bool Has(const std::string& digest) override {
    return ValidateDigest(digest).ok() && access(Path(digest).c_str(), F_OK) == 0;
  }

  absl::Status Delete(const std::string& digest) override {
    KILN_RETURN_IF_ERROR(ValidateDigest(digest));
    if (unlink(Path(digest).c_str()) != 0 && errno != ENOENT) {
      return fsutil::ErrnoToStatus(errno, "delete blob", digest);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> List() override {
    std::vector<std::string> out;
    std::string dir = root_ + "/blobs/sha256";
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return fsutil::ErrnoToStatus(errno, "list", dir);
    while (struct dirent* e = readdir(d)) {
      std::string digest = absl::StrCat("sha256:", e->d_name);
      if (ValidateDigest(digest).ok()) out.push_back(digest);
    }
    closedir(d);
    return out;
  }

 private:
  std::string Path(const std::string& digest) const {
    return absl::StrCat(root_, "/blobs/sha256/", DigestHex(digest));
  }
  std::string root_;
};

class MemoryContentStore;

class MemoryWriter : public BlobWriter {
 public:
  explicit MemoryWriter(MemoryContentStore* store) : store_(store) {}
  absl::Status Write(std::string_view chunk) override {
    data_.append(chunk);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> Commit(const std::string& expected) override;

 private:
  MemoryContentStore* store_;
  std::string data_;
};

class MemoryContentStore : public ContentStore {
 public:
  absl::StatusOr<std::unique_ptr<BlobWriter>> NewWriter() override {
    return std::make_unique<MemoryWriter>(this);
  }
  absl::StatusOr<std::string> Get(const std::string& digest) override {
    absl::MutexLock lock(&mu_);
    auto it = blobs_.find(digest);
    if (it == blobs_.end()) return absl::NotFoundError("blob " + digest + " not found");
    return it->second;
  }
  absl::StatusOr<int64_t> Size(const std::string& digest) override {
    KILN_ASSIGN_OR_RETURN(std::string data, Get(digest));
    return static_cast<int64_t>(data.size());
  }
  absl::Status ReadTo(const std::string& digest,
                      const std::function<absl::Status(std::string_view)>& sink) override {
    KILN_ASSIGN_OR_RETURN(std::string data, Get(digest));
    return sink(data);
  }
  bool Has(const std::string& digest) override {
    absl::MutexLock lock(&mu_);
    return blobs_.count(digest) > 0;
  }
  absl::Status Delete(const std::string& digest) override {
    absl::MutexLock lock(&mu_);
    blobs_.erase(digest);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::string>> List() override {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const auto& [d, _] : blobs_) out.push_back(d);
    return out;
  }
  void Store(std::string digest, std::string data) {
    absl::MutexLock lock(&mu_);
    blobs_[std::move(digest)] = std::move(data);
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::string> blobs_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::string> MemoryWriter::Commit(const std::string& expected) {
  std::string digest = DigestOf(data_);
  KILN_RETURN_IF_ERROR(CheckExpected(expected, digest));
  store_->Store(digest, std::move(data_));
  return digest;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ContentStore>> NewDiskContentStore(const std::string& root) {
  KILN_RETURN_IF_ERROR(cache_internal::MakeDirs(root + "/blobs/sha256"));
  KILN_RETURN_IF_ERROR(cache_internal::MakeDirs(root + "/ingest"));
  return std::make_unique<DiskContentStore>(root);
}

std::unique_ptr<ContentStore> NewMemoryContentStore() {
  return std::make_unique<MemoryContentStore>();
}

}  // namespace kiln::cache
