#include "gateway/control/wire.h"

#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "sdk/base/digest.h"
#include "sdk/base/json.h"

namespace kiln::controlrpc {
namespace {

int64_t Nanos(absl::Time t) { return t == absl::Time() ? 0 : absl::ToUnixNanos(t); }
absl::Time FromNanos(int64_t ns) { return ns == 0 ? absl::Time() : absl::FromUnixNanos(ns); }

}  // namespace

cpb::ProgressEvent ToWire(const progress::Event& e) {
  cpb::ProgressEvent w;
  switch (e.kind) {
    case progress::Event::Kind::kStarted:
      w.set_kind(cpb::ProgressEvent::STARTED);
      break;
    case progress::Event::Kind::kCompleted:
      w.set_kind(cpb::ProgressEvent::COMPLETED);
      break;
    case progress::Event::Kind::kLog:
      w.set_kind(cpb::ProgressEvent::LOG);
      break;
    case progress::Event::Kind::kWarning:
      w.set_kind(cpb::ProgressEvent::WARNING);
      break;
  }
  w.set_vertex(e.vertex);
  w.set_name(e.name);
  w.set_started_ns(Nanos(e.started));
  w.set_completed_ns(Nanos(e.completed));
  w.set_cached(e.cached);
  w.set_shared(e.shared);
  w.set_error(e.error);
  w.set_stream(e.stream);
  w.set_data(e.data);
  return w;
}

progress::Event FromWire(const cpb::ProgressEvent& w) {
  progress::Event e;
  switch (w.kind()) {
    case cpb::ProgressEvent::COMPLETED:
      e.kind = progress::Event::Kind::kCompleted;
      break;
    case cpb::ProgressEvent::LOG:
      e.kind = progress::Event::Kind::kLog;
      break;
    case cpb::ProgressEvent::WARNING:
      e.kind = progress::Event::Kind::kWarning;
      break;
    default:
      e.kind = progress::Event::Kind::kStarted;
  }
  e.vertex = w.vertex();
  e.name = w.name();
  e.started = FromNanos(w.started_ns());
  e.completed = FromNanos(w.completed_ns());
  e.cached = w.cached();
  e.shared = w.shared();
  e.error = w.error();
  e.stream = w.stream();
  e.data = w.data();
  return e;
}

cpb::ContextEntry ToWire(const contextsync::WireEntry& e) {
  cpb::ContextEntry w;
  w.set_path(e.rel);
  w.set_mode(e.mode);
  w.set_uid(e.uid);
  w.set_gid(e.gid);
  w.set_size(e.size);
  w.set_mtime_ns(e.mtime_ns);
  w.set_link_target(e.link_target);
  w.set_digest(e.digest_hex);
  return w;
}

contextsync::WireEntry FromWire(const cpb::ContextEntry& w) {
  contextsync::WireEntry e;
  e.rel = w.path();
  e.mode = w.mode();
  e.uid = w.uid();
  e.gid = w.gid();
  e.size = w.size();
  e.mtime_ns = w.mtime_ns();
  e.link_target = w.link_target();
  e.digest_hex = w.digest();
  return e;
}

std::string MirrorKey(const std::string& identity, const std::string& name,
                      const std::vector<std::string>& include,
                      const std::vector<std::string>& exclude,
                      const std::vector<std::string>& follow) {
  Sha256 h;
  h.UpdateField(identity);
  h.UpdateField(name);
  h.UpdateField(JsonStringArray(include));
  h.UpdateField(JsonStringArray(exclude));
  h.UpdateField(JsonStringArray(follow));
  return h.HexDigest();
}

absl::StatusOr<std::string> ReadTlsFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": cannot read it"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void SendSocket(int fd, uint64_t id, const std::function<bool(const cpb::SshData&)>& send) {
  cpb::SshData m;
  m.set_id(id);
  std::string buf(16384, '\0');
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    m.set_data(buf.data(), n);
    if (!send(m)) return;
  }
  m.clear_data();
  m.set_eof(true);
  send(m);
}

}  // namespace kiln::controlrpc
