// File actions: mkdir, mkfile, rm, copy and symlink, chained into one
// pb::FileOp and applied to a State with State::File.
//
//   llb::MkdirOptions parents;
//   parents.make_parents = true;
//   llb::State site = llb::Scratch().Dir("/srv").File(
//       llb::Mkdir("www", 0755, parents)                     // /srv/www
//           .Mkfile("www/index.html", 0644, "<h1>hi</h1>")
//           .Copy(llb::Local("assets"), "/css", "www/css/")
//           .Symlink("index.html", "/srv/www/home.html"));
//
// Relative paths resolve against the working dir of the state File is
// called on (for a copy source: of the source state), as in Go's llb; a
// trailing "/" on a copy destination is kept. Each chain becomes one op
// whose actions feed each other: the first works on the state, each later
// one on the previous action's result, and only the last has an output.
//
// FileAction is an immutable value; appending returns a new chain and
// shares the old one. Thread-compatible. Problems (an empty chain) surface
// from Marshal as InvalidArgument.
#ifndef KILN_SDK_LLB_FILE_H_
#define KILN_SDK_LLB_FILE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "sdk/llb/state.h"

namespace kiln::llb_internal {
struct FileActionSpec;
}  // namespace kiln::llb_internal

namespace kiln::llb {

// A user or group: by name (resolved in the target filesystem's
// /etc/passwd or /etc/group) or, when `name` is empty, by numeric id.
struct UserRef {
  std::string name;
  uint32_t id = 0;
};

struct Owner {
  std::optional<UserRef> user;
  std::optional<UserRef> group;

  // "user[:group]" as Go's llb.WithUser reads it: "root" and decimal numbers
  // are ids, anything else is a name.
  static Owner Parse(std::string_view user_colon_group);
  static Owner Ids(uint32_t uid, uint32_t gid);
};

struct MkdirOptions {
  bool make_parents = false;
  std::optional<Owner> owner;
  std::optional<absl::Time> timestamp;  // default: the time of the build
};

struct MkfileOptions {
  std::optional<Owner> owner;
  std::optional<absl::Time> timestamp;
};

struct RmOptions {
  bool allow_not_found = false;
  bool allow_wildcard = false;
};

struct SymlinkOptions {
  std::optional<Owner> owner;
  std::optional<absl::Time> timestamp;
};

struct CopyOptions {
  std::optional<Owner> owner;
  std::optional<uint32_t> mode;  // default: keep the source's mode
  std::string mode_str;          // symbolic mode such as "u+x"; wins over `mode`
  bool follow_symlinks = false;
  bool copy_dir_contents_only = false;
  bool attempt_unpack = false;  // unpack archives as Dockerfile ADD does
  bool create_dest_path = false;
  bool allow_wildcard = false;
  bool allow_empty_wildcard = false;
  bool always_replace_existing_dest_paths = false;
  std::vector<std::string> include_patterns;
  std::vector<std::string> exclude_patterns;
  std::vector<std::string> required_paths;
  std::optional<absl::Time> timestamp;
};

class FileAction {
 public:
  // An empty chain; State::File with it fails to marshal.
  FileAction();

  // `mode` is masked to its permission bits (0777), as in Go's llb.
  FileAction Mkdir(std::string_view path, uint32_t mode, const MkdirOptions& options = {}) const;
  FileAction Mkfile(std::string_view path, uint32_t mode, std::string_view data,
                    const MkfileOptions& options = {}) const;
  FileAction Rm(std::string_view path, const RmOptions& options = {}) const;
  // Copies `src_path` of `src` to `dest_path` of the state being changed.
  FileAction Copy(const State& src, std::string_view src_path, std::string_view dest_path,
                  const CopyOptions& options = {}) const;
  // Creates `newpath` pointing at `oldpath` (both used as written).
  FileAction Symlink(std::string_view oldpath, std::string_view newpath,
                     const SymlinkOptions& options = {}) const;

  bool empty() const { return actions_.empty(); }

 private:
  friend class State;
  FileAction Append(llb_internal::FileActionSpec spec) const;
  std::vector<std::shared_ptr<const llb_internal::FileActionSpec>> actions_;
};

// Chains that start with one action.
FileAction Mkdir(std::string_view path, uint32_t mode, const MkdirOptions& options = {});
FileAction Mkfile(std::string_view path, uint32_t mode, std::string_view data,
                  const MkfileOptions& options = {});
FileAction Rm(std::string_view path, const RmOptions& options = {});
FileAction Copy(const State& src, std::string_view src_path, std::string_view dest_path,
                const CopyOptions& options = {});
FileAction Symlink(std::string_view oldpath, std::string_view newpath,
                   const SymlinkOptions& options = {});

}  // namespace kiln::llb

#endif  // KILN_SDK_LLB_FILE_H_
