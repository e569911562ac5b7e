#include "gateway/control/server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/control/wire.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/tree.h"
#include "gateway/ops/ssh_agent.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"
#include "sdk/llb/platform.h"

namespace kiln::controlrpc {
namespace {

using Stream = grpc::ServerReaderWriter<cpb::SolveServerMessage, cpb::SolveClientMessage>;

grpc::Status ToGrpc(const absl::Status& st) {
  return grpc::Status(static_cast<grpc::StatusCode>(st.code()), std::string(st.message()));
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  std::ifstream in("/dev/urandom", std::ios::binary);
  in.read(raw.data(), raw.size());
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// Buffered progress kept per build for Status followers, at most this much
// log data (a build's logs are not the daemon's memory to fill).
constexpr size_t kMaxBufferedLogBytes = 16 << 20;

// Client messages read ahead of the build, at most about this much.
constexpr size_t kMaxInboxBytes = 8 << 20;

}  // namespace

// One running build, visible to Status.
struct ControlServer::Build {
  std::string ref;
  std::atomic<bool> cancel{false};
  absl::Mutex mu;
  std::vector<cpb::ProgressEvent> events ABSL_GUARDED_BY(mu);
  size_t log_bytes ABSL_GUARDED_BY(mu) = 0;
  bool done ABSL_GUARDED_BY(mu) = false;
};

// The Solve stream, shared by the handler, the reader thread, the progress
// sink (many solver threads) and the session's context requests.
class ControlServer::Conn {
 public:
  Conn(Stream* stream, std::atomic<bool>* cancel) : stream_(stream), cancel_(cancel) {}

  bool Write(const cpb::SolveServerMessage& m) {
    absl::MutexLock lock(&write_mu_);
    return stream_->Write(m);
  }

  // Reads client messages until the client closes its side or goes away.
  // Before the build has finished, that cancels it.
  void ReadLoop() {
    cpb::SolveClientMessage m;
    while (stream_->Read(&m)) {
      uint64_t id = m.has_entries()                               ? m.entries().id()
                    : m.has_data()                                ? m.data().id()
                    : m.has_batch() && m.batch().parts_size() > 0 ? m.batch().parts(0).id()
                    : m.has_ssh_data()                            ? m.ssh_data().id()
                                                                  : 0;
      absl::MutexLock lock(&mu_);
      if (id == 0 || waiting_.count(id) == 0) continue;  // nothing asked for it: dropped
      inbox_bytes_ += m.ByteSizeLong();
      inbox_[id].push_back(std::move(m));
      // Reading on only when the build has taken most of it: the client's
      // files wait in the transport (flow control), not in the daemon.
      auto room = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return inbox_bytes_ < kMaxInboxBytes || waiting_.empty() || finished_;
      };
      while (!mu_.AwaitWithTimeout(absl::Condition(&room), absl::Milliseconds(100))) {
        if (cancel_->load()) break;
      }
    }
    absl::MutexLock lock(&mu_);
    closed_ = true;
    if (!finished_) cancel_->store(true);
  }

  uint64_t NewRequest() {
    absl::MutexLock lock(&mu_);
    uint64_t id = ++next_id_;
    waiting_.insert(id);
    return id;
  }
  void EndRequest(uint64_t id) {
    absl::MutexLock lock(&mu_);
    waiting_.erase(id);
    for (const cpb::SolveClientMessage& m : inbox_[id]) inbox_bytes_ -= m.ByteSizeLong();
    inbox_.erase(id);
  }

  // The next message for request `id`; Cancelled when the client went away,
  // the build was cancelled or the request ended first.
  absl::StatusOr<cpb::SolveClientMessage> Next(uint64_t id) {
    absl::MutexLock lock(&mu_);
    auto ready = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      auto it = inbox_.find(id);
      return closed_ || waiting_.count(id) == 0 || (it != inbox_.end() && !it->second.empty());
    };
    while (!ready()) {
      if (cancel_->load()) return absl::CancelledError("build cancelled");
      mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(100));
    }
    auto it = inbox_.find(id);
    if (it == inbox_.end() || it->second.empty()) {
      return absl::CancelledError(waiting_.count(id) ? "the client went away" : "request ended");
    }
    cpb::SolveClientMessage m = std::move(it->second.front());
    it->second.pop_front();
    inbox_bytes_ -= m.ByteSizeLong();
    return m;
  }

  void Finish() {
    absl::MutexLock lock(&mu_);
    finished_ = true;
  }
  bool WaitClosed(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&closed_), timeout);
  }

 private:
  Stream* stream_;
  std::atomic<bool>* cancel_;
  absl::Mutex write_mu_;
  absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<uint64_t> waiting_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::deque<cpb::SolveClientMessage>> inbox_ ABSL_GUARDED_BY(mu_);
  size_t inbox_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// A client's ssh agent, reached through the Solve stream: each connection
// is a socket pair whose far end two threads pump to and from the client
// (SshOpen, then SshData both ways). Close() ends every connection; the
// agent then refuses new ones, so a step that outlives the build cannot
// reach the stream.
class ControlServer::StreamSshAgent : public solver::SshAgent {
 public:
  StreamSshAgent(Conn* conn, std::string ssh_id) : conn_(conn), ssh_id_(std::move(ssh_id)) {}
  ~StreamSshAgent() override { Close(); }

  absl::StatusOr<int> Connect() override {
    absl::MutexLock lock(&mu_);
    if (conn_ == nullptr) {
      return absl::UnavailableError(
          absl::StrCat("the build that forwarded ssh agent \"", ssh_id_, "\" has ended"));
    }
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      return fsutil::ErrnoToStatus(errno, "create", "a socket pair");
    }
    Pump p;
    p.id = conn_->NewRequest();
    p.fd = sv[1];
    cpb::SolveServerMessage open;
    open.mutable_ssh_open()->set_id(p.id);
    open.mutable_ssh_open()->set_ssh_id(ssh_id_);
    if (!conn_->Write(open)) {
      conn_->EndRequest(p.id);
      ::close(sv[0]);
      ::close(sv[1]);
      return absl::UnavailableError("the client went away");
    }
    Conn* conn = conn_;
    p.up = std::thread([conn, id = p.id, fd = p.fd] { Up(conn, id, fd); });
    p.down = std::thread([conn, id = p.id, fd = p.fd] { Down(conn, id, fd); });
    pumps_.push_back(std::move(p));
    return sv[0];
  }

  void Close() {
    Conn* conn;
    std::vector<Pump> pumps;
    {
      absl::MutexLock lock(&mu_);
      conn = conn_;
      conn_ = nullptr;
      pumps.swap(pumps_);
    }
    for (Pump& p : pumps) {
      conn->EndRequest(p.id);       // ends Down's wait for the client
      ::shutdown(p.fd, SHUT_RDWR);  // ends Up's read
      p.up.join();
      p.down.join();
      ::close(p.fd);
    }
  }

 private:
  struct Pump {
    uint64_t id = 0;
    int fd = -1;
    std::thread up, down;
  };

  // The step's bytes to the client, then an end.
  static void Up(Conn* conn, uint64_t id, int fd) {
    SendSocket(fd, id, [conn](const cpb::SshData& d) {
      cpb::SolveServerMessage m;
      *m.mutable_ssh_data() = d;
      return conn->Write(m);
    });
  }

  // The agent's bytes from the client to the step, until its end.
  static void Down(Conn* conn, uint64_t id, int fd) {
    for (;;) {
      absl::StatusOr<cpb::SolveClientMessage> m = conn->Next(id);
      if (!m.ok() || !m->has_ssh_data() || !m->ssh_data().error().empty()) break;
      const std::string& data = m->ssh_data().data();
      if (!ops::SendAll(fd, data)) break;
      if (m->ssh_data().eof()) {
        ::shutdown(fd, SHUT_WR);
        return;
      }
    }
    ::shutdown(fd, SHUT_RDWR);  // the step sees the agent hang up
  }

  absl::Mutex mu_;
  Conn* conn_ ABSL_GUARDED_BY(mu_);
  const std::string ssh_id_;
  std::vector<Pump> pumps_ ABSL_GUARDED_BY(mu_);
};

// The build's view of the client: local directories as mirrors synced on
// request, secrets as sent, ssh agents through the stream.
class ControlServer::RemoteSession : public solver::Session {
 public:
  RemoteSession(ControlServer* server, Conn* conn, const cpb::SolveRequest& req, std::string ref)
      : server_(server), conn_(conn), ref_(std::move(ref)) {
    for (const auto& [name, identity] : req.locals()) locals_[name] = identity;
    for (const auto& [id, value] : req.secrets()) secrets_[id] = value;
    for (const std::string& id : req.ssh()) ssh_[id] = std::make_shared<StreamSshAgent>(conn, id);
  }

  ~RemoteSession() override {
    for (auto& [id, agent] : ssh_) agent->Close();
    absl::MutexLock lock(&server_->mu_);
    for (const std::string& key : held_) server_->mirrors_[key].readers--;
    for (const std::string& dir : private_dirs_) {
      (void)fsutil::RemoveAll(dir);
      (void)unlink((dir + ".manifest").c_str());
    }
  }

  absl::StatusOr<std::string> LocalDir(const std::string& name, const solver::LocalFilter& filter,
                                       solver::OpContext* ctx) const override {
    auto identity = locals_.find(name);
    if (identity == locals_.end()) {
      std::string known;
      for (const auto& [n, _] : locals_) absl::StrAppend(&known, known.empty() ? "" : ", ", n);
      return absl::NotFoundError(
          absl::StrCat("local directory \"", name, "\" was not shared with this build (shared: ",
                       known.empty() ? "none" : known, "); pass --local ", name, "=DIR"));
    }
    std::string key =
        MirrorKey(identity->second, name, filter.include, filter.exclude, filter.follow);
    absl::MutexLock lock(&mu_);  // one sync at a time per build
    if (auto it = synced_.find(key); it != synced_.end()) return it->second;
    int64_t files_before = files_sent_, bytes_before = bytes_sent_;
    size_t total = 0;
    absl::StatusOr<std::string> dir = Sync(name, key, filter, &total);
    if (!dir.ok()) return dir;
    synced_[key] = *dir;
    if (ctx != nullptr && total > 0) {
      ctx->Log(1, absl::StrCat("transferred ", files_sent_ - files_before, " changed files (",
                               bytes_sent_ - bytes_before, " bytes) of ", total,
                               " entries from the client\n"));
    }
    return dir;
  }

  absl::StatusOr<std::string> Secret(const std::string& id) const override {
    auto it = secrets_.find(id);
    if (it != secrets_.end()) return it->second;
    return absl::NotFoundError(absl::StrCat(
        "secret \"", id, "\" was not given to this build; pass --secret id=", id, ",src=FILE"));
  }

  absl::StatusOr<std::shared_ptr<solver::SshAgent>> Ssh(const std::string& id) const override {
    auto it = ssh_.find(id);
    if (it != ssh_.end()) return it->second;
    return Session::Ssh(id);
  }

  int64_t files_sent() const { return files_sent_; }
  int64_t bytes_sent() const { return bytes_sent_; }
  int64_t files_unchanged() const { return files_unchanged_; }

 private:
  // Asks the client for `name` as filtered and brings a mirror up to date.
  absl::StatusOr<std::string> Sync(const std::string& name, const std::string& key,
                                   const solver::LocalFilter& filter, size_t* total) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    uint64_t id = conn_->NewRequest();
    struct EndRequest {
      Conn* conn;
      uint64_t id;
      ~EndRequest() { conn->EndRequest(id); }
    } end{conn_, id};
    cpb::SolveServerMessage ask;
    cpb::ContextRequest* req = ask.mutable_context();
    req->set_id(id);
    req->set_name(name);
    for (const std::string& p : filter.include) req->add_include_patterns(p);
    for (const std::string& p : filter.exclude) req->add_exclude_patterns(p);
    for (const std::string& p : filter.follow) req->add_follow_paths(p);
    if (!conn_->Write(ask)) return absl::CancelledError("the client went away");

    std::vector<contextsync::WireEntry> entries;
    for (bool last = false; !last;) {
      KILN_ASSIGN_OR_RETURN(cpb::SolveClientMessage m, conn_->Next(id));
      if (!m.has_entries()) return Protocol("entries of local directory " + name);
      if (!m.entries().error().empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("local directory \"", name, "\": ", m.entries().error()));
      }
      for (const cpb::ContextEntry& e : m.entries().entries()) entries.push_back(FromWire(e));
      last = m.entries().last();
    }
    *total = entries.size();
    KILN_RETURN_IF_ERROR(contextsync::Validate(entries));

    // The shared mirror when nobody else changes it: as it is when it already
    // holds these entries, else updated when no other build reads it, else a
    // private mirror for this build.
    std::string dir = absl::StrCat(server_->root_, "/contexts/", key);
    bool share = false;
    {
      absl::MutexLock lock(&server_->mu_);
      MirrorSlot& slot = server_->mirrors_[key];
      auto no_writer = [&slot]() { return !slot.writer; };
      server_->mu_.Await(absl::Condition(&no_writer));
      if (!slot.mirror.has_value()) {
        absl::StatusOr<contextsync::Mirror> m = contextsync::Mirror::Open(dir);
        if (!m.ok()) return m.status();
        slot.mirror = std::move(*m);
      }
      if (slot.mirror->Same(entries)) {
        slot.readers++;
        held_.push_back(key);
        files_unchanged_ += CountFiles(entries);
        return dir;
      }
      if (slot.readers == 0) {
        slot.writer = true;
        share = true;
      }
    }
    std::optional<contextsync::Mirror> own;
    contextsync::Mirror* mirror = nullptr;
    if (share) {
      absl::MutexLock lock(&server_->mu_);
      mirror = &*server_->mirrors_[key].mirror;  // std::map: stable while the writer flag holds
    } else {
      int64_t n;
      {
        absl::MutexLock lock(&server_->mu_);
        n = ++server_->next_private_;
      }
      dir = absl::StrCat(server_->root_, "/contexts/private-", ref_, "-", n);
      private_dirs_.push_back(dir);
      absl::StatusOr<contextsync::Mirror> m = contextsync::Mirror::Open(dir);
      if (!m.ok()) return m.status();
      own = std::move(*m);
      mirror = &*own;
    }
    absl::Status st = Transfer(id, name, entries, mirror);
    if (share) {
      absl::MutexLock lock(&server_->mu_);
      MirrorSlot& slot = server_->mirrors_[key];
      slot.writer = false;
      if (!st.ok()) {
        slot.mirror.reset();  // reread from its manifest next time
        return st;
      }
      slot.readers++;
      held_.push_back(key);
    }
    KILN_RETURN_IF_ERROR(st);
    return dir;
  }

  // Wants, the contents, Apply.
  absl::Status Transfer(uint64_t id, const std::string& name,
                        const std::vector<contextsync::WireEntry>& entries,
                        contextsync::Mirror* mirror) const {
    KILN_ASSIGN_OR_RETURN(std::vector<std::string> wants, mirror->Wants(entries));
    cpb::SolveServerMessage m;
    m.mutable_wants()->set_id(id);
    for (const std::string& w : wants) m.mutable_wants()->add_paths(w);
    if (!conn_->Write(m)) return absl::CancelledError("the client went away");
    // Contents go to the mirror's staging files as they arrive.
    std::deque<cpb::ContextData> parts;  // received, not yet used
    for (const std::string& want : wants) {
      for (bool last = false; !last;) {
        if (parts.empty()) {
          KILN_ASSIGN_OR_RETURN(cpb::SolveClientMessage c, conn_->Next(id));
          if (c.has_data()) {
            parts.push_back(std::move(*c.mutable_data()));
          } else if (c.has_batch()) {
            for (cpb::ContextData& p : *c.mutable_batch()->mutable_parts()) {
              parts.push_back(std::move(p));
            }
          }
          if (parts.empty()) return Protocol("contents of local directory " + name);
        }
        cpb::ContextData part = std::move(parts.front());
        parts.pop_front();
        if (!part.error().empty()) {
          return absl::AbortedError(absl::StrCat("local directory \"", name, "\": ", part.error()));
        }
        if (part.id() != id || part.path() != want) {
          return Protocol(absl::StrCat("the content of ", want, " in ", name));
        }
        KILN_RETURN_IF_ERROR(mirror->Receive(want, part.data(), part.last()));
        bytes_sent_ += part.data().size();
        last = part.last();
      }
    }
    files_sent_ += wants.size();
    files_unchanged_ += CountFiles(entries) - wants.size();
    return mirror->Apply(entries);
  }

  static int64_t CountFiles(const std::vector<contextsync::WireEntry>& entries) {
    int64_t n = 0;
    for (const auto& e : entries) n += S_ISREG(e.mode) ? 1 : 0;
    return n;
  }

  static absl::Status Protocol(const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("client protocol error: expected ", what));
  }

  ControlServer* server_;
  Conn* conn_;
  std::string ref_;
  std::map<std::string, std::string> locals_;   // name -> the client's identity of it
  std::map<std::string, std::string> secrets_;  // id -> value
  std::map<std::string, std::shared_ptr<StreamSshAgent>> ssh_;
  mutable absl::Mutex mu_;
  mutable std::map<std::string, std::string> synced_ ABSL_GUARDED_BY(mu_);  // key -> dir
  mutable std::vector<std::string> held_;          // mirror keys read (server mu_)
  mutable std::vector<std::string> private_dirs_;  // removed at the end
  mutable int64_t files_sent_ = 0, bytes_sent_ = 0, files_unchanged_ = 0;
};

namespace {

// Progress to the client's stream and to the build's buffer for Status.
template <typename BuildT, typename ConnT>
class StreamSink : public progress::Sink {
 public:
  StreamSink(BuildT* build, ConnT* conn) : build_(build), conn_(conn) {}
  void Emit(const progress::Event& event) override {
    cpb::SolveServerMessage m;
    *m.mutable_progress() = ToWire(event);
    {
      absl::MutexLock lock(&build_->mu);
      size_t add = event.kind == progress::Event::Kind::kLog ? event.data.size() : 0;
      if (build_->log_bytes + add <= kMaxBufferedLogBytes) {
        build_->log_bytes += add;
        build_->events.push_back(m.progress());
      }
    }
    conn_->Write(m);  // a client that went away cancels the build elsewhere
  }

 private:
  BuildT* build_;
  ConnT* conn_;
};

absl::Status SendFile(const std::string& path, uint32_t index,
                      const std::function<bool(const cpb::SolveServerMessage&)>& write) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open the output ", path));
  std::string buf(kChunkBytes, '\0');
  absl::Status st;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = absl::InternalError(absl::StrCat("cannot read the output ", path));
      break;
    }
    cpb::SolveServerMessage m;
    m.mutable_output()->set_index(index);
    m.mutable_output()->set_data(buf.data(), n);
    m.mutable_output()->set_last(n == 0);
    if (!write(m)) {
      st = absl::CancelledError("the client went away");
      break;
    }
    if (n == 0) break;
  }
  ::close(fd);
  return st;
}

}  // namespace

ControlServer::ControlServer(engine::Engine* engine, std::string root)
    : engine_(engine), root_(std::move(root)) {
  ::mkdir((root_ + "/contexts").c_str(), 0700);
  // Private mirrors and temporaries of builds a crash interrupted.
  std::string tmp = root_ + "/tmp";
  (void)fsutil::RemoveAll(tmp);
  ::mkdir(tmp.c_str(), 0700);
}

ControlServer::~ControlServer() { Shutdown(absl::Seconds(30)); }

bool ControlServer::Shutdown(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
  for (auto& [ref, b] : builds_) b->cancel.store(true);
  auto none = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return builds_.empty(); };
  return mu_.AwaitWithTimeout(absl::Condition(&none), timeout);
}

int ControlServer::running() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(builds_.size());
}

ControlServer::Stats ControlServer::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

grpc::Status ControlServer::Solve(grpc::ServerContext* ctx, Stream* stream) {
  cpb::SolveClientMessage first;
  if (!stream->Read(&first)) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away before its request");
  }
  if (!first.has_request()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "the first message of a Solve must be its request");
  }
  auto build = std::make_shared<Build>();
  build->ref = RandomHex(12);
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "kilnd is shutting down");
    }
    builds_[build->ref] = build;
    stats_.builds++;
  }
  Conn conn(stream, &build->cancel);
  cpb::SolveServerMessage hello;
  hello.set_ref(build->ref);
  conn.Write(hello);
  std::thread reader([&conn] { conn.ReadLoop(); });

  cpb::SolveServerMessage done;
  absl::Status st = RunBuild(*build, first.request(), conn, done.mutable_done());
  done.mutable_done()->set_code(static_cast<int>(st.code()));
  done.mutable_done()->set_message(std::string(st.message()));
  conn.Finish();
  conn.Write(done);
  // The client closes its side once it has the result; one that does not
  // is cut off, so the reader thread ends.
  if (!conn.WaitClosed(absl::Seconds(10))) ctx->TryCancel();
  reader.join();
  {
    absl::MutexLock lock(&build->mu);
    build->done = true;
  }
  absl::MutexLock lock(&mu_);
  builds_.erase(build->ref);
  return grpc::Status::OK;
}

absl::Status ControlServer::RunBuild(Build& build, const cpb::SolveRequest& req, Conn& conn,
                                     cpb::SolveDone* done) {
  std::string tmp = absl::StrCat(root_, "/tmp/solve-", build.ref);
  if (::mkdir(tmp.c_str(), 0700) != 0) {
    return absl::InternalError(absl::StrCat("cannot create ", tmp));
  }
  struct Cleanup {
    std::string dir;
    ~Cleanup() { (void)fsutil::RemoveAll(dir); }
  } cleanup{tmp};

  StreamSink<Build, Conn> sink(&build, &conn);
  engine::BuildRequest r;
  r.frontend = req.frontend();
  r.frontend_options.insert(req.frontend_options().begin(), req.frontend_options().end());
  r.definition = req.definition();
  r.no_cache = req.no_cache();
  if (req.has_source_date_epoch()) r.source_date_epoch = req.source_date_epoch();
  // Outputs with files are written here, then sent.
  std::vector<std::string> files(req.outputs_size());
  for (int i = 0; i < req.outputs_size(); ++i) {
    const cpb::Output& o = req.outputs(i);
    engine::OutputSpec spec{o.type(), {o.attrs().begin(), o.attrs().end()}};
    if (spec.attrs.count("dest")) {
      return absl::InvalidArgumentError(
          absl::StrCat("output ", i, ": dest is the client's; the daemon writes no paths"));
    }
    if (spec.type != "image") {
      files[i] = absl::StrCat(tmp, "/output-", i);
      spec.attrs["dest"] = files[i];
    }
    KILN_RETURN_IF_ERROR(engine::ValidateOutputSpec(spec));
    if (spec.type == "local") {
      spec.type = "tar";
      spec.exact_times = true;
    }
    r.outputs.push_back(std::move(spec));
  }
  {
    RemoteSession session(this, &conn, req, build.ref);
    r.session = &session;
    absl::StatusOr<engine::BuildResult> result = engine_->Build(r, &sink, &build.cancel);
    done->set_context_files_sent(session.files_sent());
    done->set_context_bytes_sent(session.bytes_sent());
    done->set_context_files_unchanged(session.files_unchanged());
    {
      absl::MutexLock lock(&mu_);
      stats_.context_files_sent += session.files_sent();
      stats_.context_bytes_sent += session.bytes_sent();
      stats_.context_files_unchanged += session.files_unchanged();
    }
    if (!result.ok()) return result.status();
    done->set_result_key(result->key);
  }
  auto write = [&conn](const cpb::SolveServerMessage& m) { return conn.Write(m); };
  for (size_t i = 0; i < files.size(); ++i) {
    if (!files[i].empty()) KILN_RETURN_IF_ERROR(SendFile(files[i], i, write));
  }
  return absl::OkStatus();
}

grpc::Status ControlServer::Status(grpc::ServerContext* ctx, const cpb::StatusRequest* req,
                                   grpc::ServerWriter<cpb::ProgressEvent>* writer) {
  std::shared_ptr<Build> build;
  {
    absl::MutexLock lock(&mu_);
    auto it = builds_.find(req->ref());
    if (it == builds_.end()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("no running build \"", req->ref(), "\""));
    }
    build = it->second;
  }
  for (size_t sent = 0;;) {
    std::vector<cpb::ProgressEvent> batch;
    bool done;
    {
      absl::MutexLock lock(&build->mu);
      auto more = [&]() ABSL_SHARED_LOCKS_REQUIRED(build->mu) {
        return build->done || build->events.size() > sent;
      };
      build->mu.AwaitWithTimeout(absl::Condition(&more), absl::Milliseconds(200));
      batch.assign(build->events.begin() + sent, build->events.end());
      done = build->done;
    }
    for (const cpb::ProgressEvent& e : batch) {
      if (!writer->Write(e)) return grpc::Status::CANCELLED;
    }
    sent += batch.size();
    if (done) return grpc::Status::OK;
    if (ctx->IsCancelled()) return grpc::Status::CANCELLED;
  }
}

grpc::Status ControlServer::DiskUsage(grpc::ServerContext*, const cpb::DiskUsageRequest*,
                                      cpb::DiskUsageResponse* resp) {
  auto usage = engine_->cache()->index()->Usage();
  if (!usage.ok()) return ToGrpc(usage.status());
  for (const cache::RecordUsage& u : *usage) {
    cpb::UsageRecord* r = resp->add_records();
    r->set_id(u.key);
    r->set_size(u.size);
    r->set_last_used_unix(u.last_used);
    r->set_description(u.description);
  }
  return grpc::Status::OK;
}

grpc::Status ControlServer::Prune(grpc::ServerContext*, const cpb::PruneRequest* req,
                                  cpb::PruneResponse* resp) {
  auto report =
      engine_->cache()->Prune(req->all() ? -1 : req->keep_storage(), absl::Seconds(30), req->all());
  if (!report.ok()) return ToGrpc(report.status());
  resp->set_records_removed(report->records_removed);
  resp->set_layers_removed(report->layers_removed);
  resp->set_bytes_freed(report->bytes_freed);
  resp->set_cache_mount_instances_removed(report->cache_mount_instances_removed);
  if (req->all()) {
    // Context mirrors no build is using go too: the next build sends all.
    absl::MutexLock lock(&mu_);
    for (auto it = mirrors_.begin(); it != mirrors_.end();) {
      if (it->second.readers > 0 || it->second.writer) {
        ++it;
        continue;
      }
      std::string dir = absl::StrCat(root_, "/contexts/", it->first);
      (void)fsutil::RemoveAll(dir);
      (void)unlink((dir + ".manifest").c_str());
      it = mirrors_.erase(it);
    }
  }
  return grpc::Status::OK;
}

grpc::Status ControlServer::ListWorkers(grpc::ServerContext*, const cpb::ListWorkersRequest*,
                                        cpb::ListWorkersResponse* resp) {
  cpb::Worker* w = resp->add_workers();
  w->set_id("kiln");
  const llb::Platform host = llb::Platform::Host();
  pb::Platform* p = w->add_platforms();
  p->set_os(host.os);
  p->set_architecture(host.architecture);
  p->set_variant(host.variant);
  (*w->mutable_labels())["org.kiln.executor"] = "runc";
  (*w->mutable_labels())["org.kiln.snapshotter"] = engine_->cache()->snapshotter()->name();
  w->set_max_parallelism(engine_->max_parallelism());
  return grpc::Status::OK;
}

grpc::Status ControlServer::ImportImage(grpc::ServerContext*,
                                        grpc::ServerReader<cpb::ImportImageChunk>* reader,
                                        cpb::ImportImageResponse* resp) {
  std::string path = absl::StrCat(root_, "/tmp/import-", RandomHex(8));
  struct Cleanup {
    std::string path;
    ~Cleanup() { ::unlink(path.c_str()); }
  } cleanup{path};
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return grpc::Status(grpc::StatusCode::INTERNAL, "cannot create " + path);
  cpb::ImportImageChunk chunk;
  std::string name;
  bool rootfs = false, first = true;
  absl::Status written;
  while (reader->Read(&chunk)) {
    if (first) {
      name = chunk.name();
      rootfs = chunk.rootfs();
      first = false;
    }
    if (written.ok()) written = fsutil::WriteAll(fd, chunk.data(), path);
  }
  ::close(fd);
  if (!written.ok()) return ToGrpc(written);
  if (name.empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "ImportImage: no image name given");
  }
  image::DiskStore* store = engine_->images();
  auto img = rootfs ? store->ImportRootfs(path, name) : store->ImportArchive(path, name);
  if (!img.ok()) return ToGrpc(img.status());
  resp->set_ref(img->ref);
  resp->set_digest(img->digest);
  return grpc::Status::OK;
}

grpc::Status ControlServer::ListImages(grpc::ServerContext*, const cpb::ListImagesRequest*,
                                       cpb::ListImagesResponse* resp) {
  auto list = engine_->images()->List();
  if (!list.ok()) return ToGrpc(list.status());
  for (const image::ImageInfo& i : *list) {
    cpb::ImageInfo* w = resp->add_images();
    w->set_ref(i.ref);
    w->set_digest(i.digest);
    w->set_size(i.size);
  }
  return grpc::Status::OK;
}

grpc::Status ControlServer::RemoveImage(grpc::ServerContext*, const cpb::RemoveImageRequest* req,
                                        cpb::RemoveImageResponse*) {
  return ToGrpc(engine_->images()->Remove(req->ref()));
}

grpc::Status ControlServer::ExportImage(grpc::ServerContext*, const cpb::ExportImageRequest* req,
                                        grpc::ServerWriter<cpb::ExportImageChunk>* writer) {
  std::string path = absl::StrCat(root_, "/tmp/export-", RandomHex(8), ".tar");
  struct Cleanup {
    std::string path;
    ~Cleanup() { ::unlink(path.c_str()); }
  } cleanup{path};
  absl::Status st = engine_->images()->ExportOci(req->ref(), path);
  if (!st.ok()) return ToGrpc(st);
  st = SendFile(path, 0, [writer](const cpb::SolveServerMessage& m) {
    cpb::ExportImageChunk chunk;
    chunk.set_data(m.output().data());
    return m.output().data().empty() || writer->Write(chunk);
  });
  return ToGrpc(st);
}

}  // namespace kiln::controlrpc
