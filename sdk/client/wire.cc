#include "sdk/client/wire.h"

#include <sys/stat.h>

namespace kiln::client {
namespace {

// Go's os.FileMode bits.
constexpr uint32_t kGoDir = 1u << 31;
constexpr uint32_t kGoSymlink = 1u << 27;
constexpr uint32_t kGoDevice = 1u << 26;
constexpr uint32_t kGoNamedPipe = 1u << 25;
constexpr uint32_t kGoSocket = 1u << 24;
constexpr uint32_t kGoSetuid = 1u << 23;
constexpr uint32_t kGoSetgid = 1u << 22;
constexpr uint32_t kGoCharDevice = 1u << 21;
constexpr uint32_t kGoSticky = 1u << 20;

}  // namespace

uint32_t GoFileMode(uint32_t m) {
  uint32_t out = m & 0777;
  switch (m & S_IFMT) {
    case S_IFDIR:
      out |= kGoDir;
      break;
    case S_IFLNK:
      out |= kGoSymlink;
      break;
    case S_IFIFO:
      out |= kGoNamedPipe;
      break;
    case S_IFSOCK:
      out |= kGoSocket;
      break;
    case S_IFBLK:
      out |= kGoDevice;
      break;
    case S_IFCHR:
      out |= kGoDevice | kGoCharDevice;
      break;
    default:
      break;
  }
  if (m & S_ISUID) out |= kGoSetuid;
  if (m & S_ISGID) out |= kGoSetgid;
  if (m & S_ISVTX) out |= kGoSticky;
  return out;
}

uint32_t UnixFileMode(uint32_t g) {
  uint32_t out = g & 0777;
  if (g & kGoDir) {
    out |= S_IFDIR;
  } else if (g & kGoSymlink) {
    out |= S_IFLNK;
  } else if (g & kGoNamedPipe) {
    out |= S_IFIFO;
  } else if (g & kGoSocket) {
    out |= S_IFSOCK;
  } else if (g & kGoCharDevice) {
    out |= S_IFCHR;
  } else if (g & kGoDevice) {
    out |= S_IFBLK;
  } else {
    out |= S_IFREG;
  }
  if (g & kGoSetuid) out |= S_ISUID;
  if (g & kGoSetgid) out |= S_ISGID;
  if (g & kGoSticky) out |= S_ISVTX;
  return out;
}

fsutil::types::Stat StatToWire(const frontend::FileStat& s) {
  fsutil::types::Stat out;
  out.set_path(s.path);
  out.set_mode(GoFileMode(s.mode));
  out.set_uid(s.uid);
  out.set_gid(s.gid);
  out.set_size(s.size);
  out.set_modtime(s.mod_time_ns);
  out.set_linkname(s.linkname);
  return out;
}

frontend::FileStat StatFromWire(const fsutil::types::Stat& s) {
  frontend::FileStat out;
  out.path = s.path();
  out.mode = UnixFileMode(s.mode());
  out.uid = s.uid();
  out.gid = s.gid();
  out.size = s.size();
  out.mod_time_ns = s.modtime();
  out.linkname = s.linkname();
  return out;
}

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

google::rpc::Status ToRpcStatus(const absl::Status& s) {
  google::rpc::Status out;
  out.set_code(static_cast<int32_t>(s.code()));
  out.set_message(std::string(s.message()));
  return out;
}

absl::Status FromRpcStatus(const google::rpc::Status& s) {
  if (s.code() == 0) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.code()), s.message());
}

}  // namespace kiln::client
