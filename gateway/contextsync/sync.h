// Incremental transfer of a client's build context to a daemon: the daemon
// keeps a mirror of each context between builds, and only files whose
// content it lacks travel.
//
//   // client                                   // daemon
//   auto scan = fsutil::ScanContext(dir, filter, &index);
//   auto entries = contextsync::ToWire(*scan);   --entries-->
//                                                auto wants = mirror->Wants(entries);
//   contents of `wants` (ReadContents)          <--wants----
//                                 --contents-->  mirror->Apply(entries, contents);
//
// The client's ContextIndex means an unchanged context is not re-hashed; the
// mirror's manifest means unchanged files are not sent: a second build of
// an unchanged context sends no file contents (only the entry list).
//
// The daemon trusts nothing the client sends: every path must be clean and
// relative (no "..", no leading "/"), listed once, below directories listed
// before it (never below a symlink), and every file's bytes must match its
// digest; Apply then writes only below the mirror's directory, without
// following symlinks. A Mirror is used by one build at a time.
#ifndef KILN_GATEWAY_CONTEXTSYNC_SYNC_H_
#define KILN_GATEWAY_CONTEXTSYNC_SYNC_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/fsutil/context.h"

namespace kiln::contextsync {

// One entry of a context as it travels.
struct WireEntry {
  std::string rel;    // "a/b"
  uint32_t mode = 0;  // st_mode: type and permissions
  uint32_t uid = 0, gid = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  std::string link_target;  // symlinks
  std::string digest_hex;   // regular files: sha256 of the content
};

// The entries of a scan, in its (walk) order.
std::vector<WireEntry> ToWire(const fsutil::ContextScan& scan);

// The bytes of the regular file `e` under `dir`, checked against its
// scanned size; Aborted naming it when it changed or vanished.
absl::StatusOr<std::string> ReadContent(const std::string& dir, const WireEntry& e);

// The bytes of `rels` under `dir` (the client's side of Wants), each checked
// against its scanned size. Errors: a file that changed or vanished is
// Aborted naming it.
absl::StatusOr<std::map<std::string, std::string>> ReadContents(
    const std::string& dir, const std::vector<WireEntry>& entries,
    const std::vector<std::string>& rels);

class Mirror {
 public:
  // The mirror in `dir` (created if needed); its manifest is the file
  // `dir`.manifest beside it. A missing or unreadable manifest means an
  // empty mirror: everything is wanted again.
  static absl::StatusOr<Mirror> Open(const std::string& dir);

  // True when the mirror already equals `entries` in every field: nothing
  // to send or change.
  bool Same(const std::vector<WireEntry>& entries) const;

  // The regular files whose content the mirror lacks to equal `entries`.
  // InvalidArgument naming the entry for an unsafe or malformed list.
  absl::StatusOr<std::vector<std::string>> Wants(const std::vector<WireEntry>& entries) const;

  // Takes a part of a wanted file's content as it arrives, without holding
  // it in memory: the parts of one file, in order, `last` on its final one;
  // files one after another. The bytes go to a staging file in
  // `dir`.incoming, hashed on the way. InvalidArgument when a file's parts
  // are interleaved with another's; Internal for a write failure.
  absl::Status Receive(const std::string& rel, std::string_view chunk, bool last);

  // Makes the mirror equal `entries`, with the files received since the
  // last Apply for the wanted ones. InvalidArgument for an unsafe list, a
  // content whose digest is not its entry's, or a wanted file without
  // content; the manifest is rewritten only after every file is in place,
  // so a failed Apply leaves a mirror whose next Wants asks again for what
  // may be wrong. Entries the mirror already has as they are stay untouched
  // (their ctime too, so the daemon's scan index keeps their digests).
  // Received files not used are dropped.
  absl::Status Apply(const std::vector<WireEntry>& entries);
  // Receive of each of `contents` (whole files), then Apply.
  absl::Status Apply(const std::vector<WireEntry>& entries,
                     const std::map<std::string, std::string>& contents);

  const std::string& dir() const { return dir_; }
  size_t size() const { return manifest_.size(); }

 private:
  struct Known {
    uint32_t mode = 0;
    uint32_t uid = 0, gid = 0;
    int64_t mtime_ns = 0;
    std::string digest_hex;
    std::string link_target;
  };
  static Known KnownOf(const WireEntry& e) {
    return Known{e.mode, e.uid, e.gid, e.mtime_ns, e.digest_hex, e.link_target};
  }
  static bool Equal(const Known& a, const Known& b) {
    return a.mode == b.mode && a.uid == b.uid && a.gid == b.gid && a.mtime_ns == b.mtime_ns &&
           a.digest_hex == b.digest_hex && a.link_target == b.link_target;
  }
  explicit Mirror(std::string dir) : dir_(std::move(dir)) {}
  std::string ManifestPath() const { return dir_ + ".manifest"; }
  absl::Status SaveManifest() const;

  // Files being received: staged under `dir_`.incoming until Apply.
  struct Incoming;
  struct IncomingDeleter {
    void operator()(Incoming* in) const;
  };

  std::string dir_;
  std::map<std::string, Known> manifest_;
  std::unique_ptr<Incoming, IncomingDeleter> incoming_;
};

// The checks Wants and Apply make of an entry list.
absl::Status Validate(const std::vector<WireEntry>& entries);

}  // namespace kiln::contextsync

#endif  // KILN_GATEWAY_CONTEXTSYNC_SYNC_H_
