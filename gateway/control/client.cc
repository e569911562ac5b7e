#include "gateway/control/client.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gateway/contextsync/sync.h"
#include "gateway/control/wire.h"
#include "gateway/exporter/local.h"
#include "gateway/fsutil/context.h"
#include "gateway/fsutil/tree.h"
#include "gateway/image/layer/layer.h"
#include "gateway/ops/ssh_agent.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "sdk/base/digest.h"
#include "sdk/base/json.h"
#include "sdk/base/status_macros.h"

namespace kiln::controlrpc {
namespace {

std::string Hostname() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return "localhost";
  return host;
}

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

// Where the daemon's output bytes land until the build has succeeded.
class Outputs {
 public:
  explicit Outputs(const std::vector<engine::OutputSpec>& specs) : specs_(specs) {
    files_.resize(specs.size());
  }
  ~Outputs() { Discard(); }

  absl::Status Add(const cpb::OutputData& d) {
    if (d.index() >= specs_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("kilnd sent an output #", d.index(), " that was not asked for"));
    }
    File& f = files_[d.index()];
    const engine::OutputSpec& spec = specs_[d.index()];
    if (f.done) return absl::InvalidArgumentError("kilnd sent an output twice");
    if (f.fd < 0) KILN_RETURN_IF_ERROR(Open(spec, &f));
    KILN_RETURN_IF_ERROR(fsutil::WriteAll(f.fd, d.data(), f.tmp.empty() ? "stdout" : f.tmp));
    if (d.last()) {
      if (f.fd != STDOUT_FILENO && ::close(f.fd) != 0) {
        return absl::InternalError(absl::StrCat("cannot write ", f.tmp));
      }
      f.fd = -2;
      f.done = true;
    }
    return absl::OkStatus();
  }

  // Moves every output into place, once the build succeeded.
  absl::Status Finish() {
    for (size_t i = 0; i < specs_.size(); ++i) {
      const engine::OutputSpec& spec = specs_[i];
      File& f = files_[i];
      if (spec.type == "image") continue;
      if (!f.done) return absl::DataLossError(absl::StrCat("kilnd did not send output #", i));
      if (f.tmp.empty()) continue;  // stdout
      const std::string& dest = spec.attrs.at("dest");
      if (spec.type == "local") {
        std::string staging = absl::StrCat(DirOf(dest), "/.kiln-recv-XXXXXX");
        if (::mkdtemp(staging.data()) == nullptr) {
          return absl::InternalError(
              absl::StrCat("cannot create ", staging, ": ", strerror(errno)));
        }
        image::ApplyOptions opts;
        opts.whiteouts = image::ApplyOptions::Whiteouts::kNone;
        opts.name = "output from kilnd";
        absl::Status st = image::ApplyLayerFile(f.tmp, staging, opts).status();
        if (st.ok()) st = exporter::ExportLocal(staging, dest, exporter::LocalOptions{});
        (void)fsutil::RemoveAll(staging);
        KILN_RETURN_IF_ERROR(st);
        ::unlink(f.tmp.c_str());
      } else if (::rename(f.tmp.c_str(), dest.c_str()) != 0) {
        return absl::InternalError(absl::StrCat("cannot rename ", f.tmp, " to ", dest));
      }
      f.tmp.clear();
    }
    return absl::OkStatus();
  }

  void Discard() {
    for (File& f : files_) {
      if (f.fd >= 0 && f.fd != STDOUT_FILENO) ::close(f.fd);
      f.fd = -2;
      if (!f.tmp.empty()) ::unlink(f.tmp.c_str());
      f.tmp.clear();
    }
  }

 private:
  struct File {
    int fd = -1;
    std::string tmp;
    bool done = false;
  };

  static absl::Status Open(const engine::OutputSpec& spec, File* f) {
    auto dest = spec.attrs.find("dest");
    if (dest == spec.attrs.end()) {
      return absl::InvalidArgumentError("kilnd sent data for an output without a destination");
    }
    if (dest->second == "-") {
      f->fd = STDOUT_FILENO;
      return absl::OkStatus();
    }
    // Beside the destination, so the final rename is atomic (local: the
    // tar waits there until it is unpacked).
    std::string dir = DirOf(dest->second);
    f->tmp = absl::StrCat(dir, "/.kiln-output-XXXXXX");
    f->fd = ::mkstemp(f->tmp.data());
    if (f->fd < 0) {
      std::string err = strerror(errno);
      f->tmp.clear();
      return absl::NotFoundError(
          absl::StrCat("output ", dest->second, ": cannot write in ", dir, ": ", err));
    }
    ::fchmod(f->fd, spec.type == "local" ? 0600 : 0644);
    return absl::OkStatus();
  }

  const std::vector<engine::OutputSpec>& specs_;
  std::vector<File> files_;
};

using SolveStream = grpc::ClientReaderWriter<cpb::SolveClientMessage, cpb::SolveServerMessage>;

// The Solve stream's writing side, shared by the build's reading loop and
// the ssh agent connections' threads.
class LockedStream {
 public:
  explicit LockedStream(SolveStream* stream) : stream_(stream) {}
  bool Write(const cpb::SolveClientMessage& m) {
    absl::MutexLock lock(&mu_);
    return stream_->Write(m);
  }

 private:
  absl::Mutex mu_;
  SolveStream* stream_;
};

// The client's side of the daemon's connections to this machine's ssh
// agents: each SshOpen connects to the agent's socket, a thread sends what
// the agent says, and the daemon's bytes are written to it as they come.
class SshClients {
 public:
  SshClients(const std::map<std::string, std::string>& sockets, LockedStream* stream)
      : sockets_(sockets), stream_(stream) {}
  ~SshClients() { Close(); }

  void Open(const cpb::SshOpen& o) {
    auto sock = sockets_.find(o.ssh_id());
    absl::StatusOr<int> fd =
        sock == sockets_.end()
            ? absl::NotFoundError(absl::StrCat("no ssh agent \"", o.ssh_id(), "\" was forwarded"))
            : ops::ConnectUnix(sock->second);
    if (!fd.ok() || conns_.count(o.id())) {
      cpb::SolveClientMessage m;
      m.mutable_ssh_data()->set_id(o.id());
      m.mutable_ssh_data()->set_error(fd.ok() ? "connection id in use"
                                              : std::string(fd.status().message()));
      if (fd.ok()) ::close(*fd);
      stream_->Write(m);
      return;
    }
    Conn& c = conns_[o.id()];
    c.fd = *fd;
    c.reader = std::thread([this, id = o.id(), fd = *fd] { Read(id, fd); });
  }

  void Data(const cpb::SshData& d) {
    auto it = conns_.find(d.id());
    if (it == conns_.end()) return;
    if (!d.error().empty() || (!d.data().empty() && !ops::SendAll(it->second.fd, d.data()))) {
      ::shutdown(it->second.fd, SHUT_RDWR);
    } else if (d.eof()) {
      ::shutdown(it->second.fd, SHUT_WR);
    }
  }

  void Close() {
    for (auto& [id, c] : conns_) {
      ::shutdown(c.fd, SHUT_RDWR);
      c.reader.join();
      ::close(c.fd);
    }
    conns_.clear();
  }

 private:
  struct Conn {
    int fd = -1;
    std::thread reader;
  };

  void Read(uint64_t id, int fd) {
    SendSocket(fd, id, [this](const cpb::SshData& d) {
      cpb::SolveClientMessage m;
      *m.mutable_ssh_data() = d;
      return stream_->Write(m);
    });
  }

  const std::map<std::string, std::string>& sockets_;
  LockedStream* stream_;
  std::map<uint64_t, Conn> conns_;  // touched by the reading loop only
};

// The client's side of the context requests of one build.
class Contexts {
 public:
  Contexts(const engine::BuildRequest& req, std::string state_dir, LockedStream* stream)
      : req_(req), state_dir_(std::move(state_dir)), stream_(stream) {}

  bool List(const cpb::ContextRequest& r) {
    cpb::SolveClientMessage m;
    cpb::ContextEntries* out = m.mutable_entries();
    out->set_id(r.id());
    out->set_last(true);
    absl::StatusOr<std::vector<contextsync::WireEntry>> entries = Scan(r);
    if (!entries.ok()) {
      out->set_error(std::string(entries.status().message()));
      return stream_->Write(m);
    }
    for (size_t i = 0; i < entries->size() || i == 0; i += kEntriesPerMessage) {
      out->clear_entries();
      for (size_t j = i; j < entries->size() && j < i + kEntriesPerMessage; ++j) {
        *out->add_entries() = ToWire((*entries)[j]);
      }
      out->set_last(i + kEntriesPerMessage >= entries->size());
      if (!stream_->Write(m)) return false;
    }
    pending_[r.id()] = Pending{req_.locals.at(r.name()), std::move(*entries)};
    return true;
  }

  bool Send(const cpb::ContextWants& w) {
    auto p = pending_.find(w.id());
    cpb::SolveClientMessage m;
    cpb::ContextData* d = m.mutable_data();
    d->set_id(w.id());
    if (p == pending_.end()) {
      d->set_error("no listing was sent for this request");
      return stream_->Write(m);
    }
    std::map<std::string, const contextsync::WireEntry*> by_path;
    for (const contextsync::WireEntry& e : p->second.entries) by_path[e.rel] = &e;
    // Small files travel whole, many per message; big ones in chunks.
    cpb::SolveClientMessage batch;
    size_t batch_bytes = 0;
    auto flush = [&]() {
      if (batch.batch().parts_size() == 0) return true;
      bool ok = stream_->Write(batch);
      batch.Clear();
      batch_bytes = 0;
      return ok;
    };
    for (const std::string& path : w.paths()) {
      auto e = by_path.find(path);
      d->set_path(path);
      if (e == by_path.end()) {
        d->set_error("\"" + path + "\" was not in the listing sent");
        return flush() && stream_->Write(m);
      }
      if (e->second->size >= static_cast<int64_t>(kChunkBytes / 4)) {
        // Big files straight from the disk, a chunk at a time.
        if (!flush()) return false;
        absl::Status st = SendFile(p->second.dir, *e->second, &m);
        if (st.ok()) continue;
        if (absl::IsCancelled(st)) return false;
        d->set_error(std::string(st.message()));
        return stream_->Write(m);
      }
      absl::StatusOr<std::string> content = contextsync::ReadContent(p->second.dir, *e->second);
      if (!content.ok()) {
        d->set_error(std::string(content.status().message()));
        return flush() && stream_->Write(m);
      }
      if (batch_bytes + content->size() > kChunkBytes && !flush()) return false;
      cpb::ContextData* part = batch.mutable_batch()->add_parts();
      part->set_id(w.id());
      part->set_path(path);
      part->set_data(std::move(*content));
      part->set_last(true);
      batch_bytes += part->data().size() + path.size() + 16;
    }
    if (!flush()) return false;
    pending_.erase(p);
    return true;
  }

 private:
  struct Pending {
    std::string dir;
    std::vector<contextsync::WireEntry> entries;
  };

  // The parts of `e`'s content, read as they are sent; Aborted when the
  // file is not the size scanned, Cancelled when the stream broke.
  absl::Status SendFile(const std::string& dir, const contextsync::WireEntry& e,
                        cpb::SolveClientMessage* m) {
    std::ifstream in(dir + "/" + e.rel, std::ios::binary);
    if (!in) return absl::AbortedError("context changed during transfer: " + e.rel);
    std::string buf(kChunkBytes, '\0');
    int64_t total = 0;
    for (;;) {
      in.read(buf.data(), buf.size());
      size_t n = static_cast<size_t>(in.gcount());
      total += n;
      bool end = n < buf.size();
      if (total > e.size || (end && total != e.size) || (end && in.bad())) {
        return absl::AbortedError("context changed during transfer: " + e.rel);
      }
      m->mutable_data()->set_data(buf.data(), n);
      m->mutable_data()->set_last(end);
      if (!stream_->Write(*m)) return absl::CancelledError("the stream broke");
      if (end) return absl::OkStatus();
    }
  }

  absl::StatusOr<std::vector<contextsync::WireEntry>> Scan(const cpb::ContextRequest& r) {
    auto local = req_.locals.find(r.name());
    if (local == req_.locals.end()) {
      return absl::NotFoundError(absl::StrCat("this client did not share \"", r.name(), "\""));
    }
    std::vector<std::string> exclude(r.exclude_patterns().begin(), r.exclude_patterns().end());
    std::vector<std::string> follow(r.follow_paths().begin(), r.follow_paths().end());
    // Follow paths narrow what is sent, resolved on this machine, where the
    // symlinks are.
    KILN_ASSIGN_OR_RETURN(
        std::vector<std::string> include,
        fsutil::IncludeFollowPaths(
            local->second, {r.include_patterns().begin(), r.include_patterns().end()}, follow));
    KILN_ASSIGN_OR_RETURN(fsutil::Filter filter, fsutil::Filter::Create(include, exclude));
    // The same scan index the embedded engine keeps for this directory.
    std::string index_path = fsutil::ContextIndexPath(state_dir_, local->second, r.name());
    fsutil::ContextIndex index = fsutil::ContextIndex::Load(index_path);
    KILN_ASSIGN_OR_RETURN(fsutil::ContextScan scan,
                          fsutil::ScanContext(local->second, filter, &index));
    if (index.dirty() && !state_dir_.empty()) index.Save(index_path).IgnoreError();
    return contextsync::ToWire(scan);
  }

  const engine::BuildRequest& req_;
  std::string state_dir_;
  LockedStream* stream_;
  std::map<uint64_t, Pending> pending_;
};

}  // namespace

absl::Status FromGrpc(const grpc::Status& st) {
  return absl::Status(static_cast<absl::StatusCode>(st.error_code()),
                      absl::StrCat("kilnd: ", st.error_message()));
}

absl::StatusOr<std::unique_ptr<cpb::Control::Stub>> Dial(const DialOptions& o) {
  std::string target;
  std::shared_ptr<grpc::ChannelCredentials> creds;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  if (absl::StartsWith(o.addr, "unix://")) {
    if (o.addr.size() <= 7 || o.addr[7] != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("address ", o.addr, ": want unix:///ABSOLUTE/PATH"));
    }
    target = o.addr;
    creds = grpc::InsecureChannelCredentials();
  } else if (absl::StartsWith(o.addr, "tcp://")) {
    target = o.addr.substr(6);
    if (target.empty() || target.find(':') == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("address ", o.addr, ": want tcp://HOST:PORT"));
    }
    if (o.ca_cert.empty() && o.cert.empty() && o.key.empty()) {
      creds = grpc::InsecureChannelCredentials();
    } else {
      if (o.ca_cert.empty() || o.cert.empty() || o.key.empty()) {
        return absl::InvalidArgumentError(
            "TLS needs all of --tlscacert, --tlscert and --tlskey (the daemon checks the client's "
            "certificate)");
      }
      grpc::SslCredentialsOptions ssl;
      KILN_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadTlsFile("--tlscacert", o.ca_cert));
      KILN_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadTlsFile("--tlscert", o.cert));
      KILN_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadTlsFile("--tlskey", o.key));
      creds = grpc::SslCredentials(ssl);
      if (!o.server_name.empty()) args.SetSslTargetNameOverride(o.server_name);
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", o.addr, "\": want unix:///PATH or tcp://HOST:PORT"));
  }
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(target, creds, args);
  auto deadline = std::chrono::system_clock::now() +
                  std::chrono::milliseconds(absl::ToInt64Milliseconds(o.connect_timeout));
  if (!channel->WaitForConnected(deadline)) {
    return absl::UnavailableError(absl::StrCat("cannot reach kilnd at ", o.addr,
                                               " (is it running, and are TLS settings right?)"));
  }
  return cpb::Control::NewStub(channel);
}

absl::StatusOr<RemoteBuildResult> RemoteBuild(cpb::Control::Stub* stub,
                                              const engine::BuildRequest& req,
                                              const std::string& state_dir,
                                              progress::Sink* progress,
                                              const std::atomic<bool>* cancel) {
  for (const engine::OutputSpec& o : req.outputs) {
    KILN_RETURN_IF_ERROR(engine::ValidateOutputSpec(o));
  }
  if (!state_dir.empty()) {
    (void)fsutil::MkdirAll(state_dir, 0700, std::nullopt, std::nullopt);
  }
  cpb::SolveClientMessage first;
  cpb::SolveRequest* r = first.mutable_request();
  r->set_frontend(req.frontend);
  r->mutable_frontend_options()->insert(req.frontend_options.begin(), req.frontend_options.end());
  *r->mutable_definition() = req.definition;
  std::string host = Hostname();
  for (const auto& [name, dir] : req.locals) (*r->mutable_locals())[name] = host + ":" + dir;
  for (const engine::OutputSpec& o : req.outputs) {
    cpb::Output* w = r->add_outputs();
    w->set_type(o.type);
    for (const auto& [k, v] : o.attrs) {
      if (k != "dest") (*w->mutable_attrs())[k] = v;
    }
  }
  r->mutable_secrets()->insert(req.secrets.begin(), req.secrets.end());
  for (const auto& [id, sock] : req.ssh) r->add_ssh(id);
  r->set_no_cache(req.no_cache);
  if (req.source_date_epoch.has_value()) {
    r->set_has_source_date_epoch(true);
    r->set_source_date_epoch(*req.source_date_epoch);
  }

  grpc::ClientContext ctx;
  auto stream = stub->Solve(&ctx);
  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    while (!finished.load()) {
      if (cancel != nullptr && cancel->load()) {
        ctx.TryCancel();  // the daemon cancels the build
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  struct Join {
    std::atomic<bool>* finished;
    std::thread* t;
    ~Join() {
      finished->store(true);
      t->join();
    }
  } join{&finished, &watcher};

  RemoteBuildResult result;
  Outputs outputs(req.outputs);
  LockedStream writer(stream.get());
  Contexts contexts(req, state_dir, &writer);
  SshClients ssh(req.ssh, &writer);
  std::optional<cpb::SolveDone> done;
  absl::Status local;
  if (writer.Write(first)) {
    cpb::SolveServerMessage m;
    while (!done.has_value() && local.ok() && stream->Read(&m)) {
      switch (m.msg_case()) {
        case cpb::SolveServerMessage::kRef:
          result.ref = m.ref();
          break;
        case cpb::SolveServerMessage::kProgress:
          if (progress != nullptr) progress->Emit(FromWire(m.progress()));
          break;
        case cpb::SolveServerMessage::kContext:
          contexts.List(m.context());
          break;
        case cpb::SolveServerMessage::kWants:
          contexts.Send(m.wants());
          break;
        case cpb::SolveServerMessage::kOutput:
          local = outputs.Add(m.output());
          break;
        case cpb::SolveServerMessage::kDone:
          done = m.done();
          break;
        case cpb::SolveServerMessage::kSshOpen:
          ssh.Open(m.ssh_open());
          break;
        case cpb::SolveServerMessage::kSshData:
          ssh.Data(m.ssh_data());
          break;
        default:
          break;
      }
    }
  }
  if (!local.ok()) ctx.TryCancel();
  ssh.Close();
  stream->WritesDone();
  grpc::Status st = stream->Finish();
  KILN_RETURN_IF_ERROR(local);
  if (!done.has_value()) {
    if (cancel != nullptr && cancel->load()) return absl::CancelledError("build cancelled");
    if (!st.ok()) return FromGrpc(st);
    return absl::UnavailableError("kilnd ended the build without a result");
  }
  if (done->code() != 0) {
    return absl::Status(static_cast<absl::StatusCode>(done->code()), done->message());
  }
  KILN_RETURN_IF_ERROR(outputs.Finish());
  result.key = done->result_key();
  result.context_files_sent = done->context_files_sent();
  result.context_bytes_sent = done->context_bytes_sent();
  result.context_files_unchanged = done->context_files_unchanged();
  return result;
}

absl::StatusOr<cpb::ImportImageResponse> ImportImage(cpb::Control::Stub* stub,
                                                     const std::string& path,
                                                     const std::string& name, bool rootfs) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  grpc::ClientContext ctx;
  cpb::ImportImageResponse resp;
  auto writer = stub->ImportImage(&ctx, &resp);
  cpb::ImportImageChunk chunk;
  chunk.set_name(name);
  chunk.set_rootfs(rootfs);
  std::string buf(kChunkBytes, '\0');
  absl::Status local;
  for (bool first = true;; first = false) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) local = absl::InternalError(absl::StrCat("cannot read ", path));
    if (n < 0 || (n == 0 && !first)) break;
    chunk.set_data(buf.data(), n);
    if (!writer->Write(chunk) || n == 0) break;
    chunk.clear_name();
  }
  ::close(fd);
  writer->WritesDone();
  grpc::Status st = writer->Finish();
  KILN_RETURN_IF_ERROR(local);
  if (!st.ok()) return FromGrpc(st);
  return resp;
}

absl::Status ExportImage(cpb::Control::Stub* stub, const std::string& ref,
                         const std::string& dest) {
  std::string tmp = absl::StrCat(DirOf(dest), "/.kiln-export-XXXXXX");
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot write in ", DirOf(dest), ": ", strerror(errno)));
  }
  ::fchmod(fd, 0644);
  grpc::ClientContext ctx;
  cpb::ExportImageRequest req;
  req.set_ref(ref);
  auto reader = stub->ExportImage(&ctx, req);
  cpb::ExportImageChunk chunk;
  bool ok = true;
  while (reader->Read(&chunk)) ok = ok && fsutil::WriteAll(fd, chunk.data(), tmp).ok();
  grpc::Status st = reader->Finish();
  ok = ::close(fd) == 0 && ok;
  if (!st.ok() || !ok || ::rename(tmp.c_str(), dest.c_str()) != 0) {
    ::unlink(tmp.c_str());
    if (!st.ok()) return FromGrpc(st);
    return absl::InternalError(absl::StrCat("cannot write ", dest));
  }
  return absl::OkStatus();
}

}  // namespace kiln::controlrpc
