#include "gateway/ops/source/test_git_repo.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gateway/ops/source/run.h"
#include "sdk/base/status_macros.h"

namespace kiln::ops {

absl::StatusOr<TestGitRepo> TestGitRepo::Init(const std::string& dir, const std::string& branch) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", dir, ": ", ec.message()));
  TestGitRepo repo(dir);
  KILN_RETURN_IF_ERROR(repo.Git({"init", "-q", "-b", branch}).status());
  return repo;
}

absl::Status TestGitRepo::WriteFile(const std::string& rel, const std::string& content,
                                    mode_t mode) {
  std::filesystem::path p = std::filesystem::path(dir_) / rel;
  std::error_code ec;
  std::filesystem::create_directories(p.parent_path(), ec);
  ::unlink(p.c_str());
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0 ||
      ::write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size()) ||
      ::fchmod(fd, mode) != 0) {
    absl::Status s = absl::InternalError(absl::StrCat("write ", p.string(), ": ", strerror(errno)));
    if (fd >= 0) ::close(fd);
    return s;
  }
  ::close(fd);
  return absl::OkStatus();
}

absl::Status TestGitRepo::Symlink(const std::string& target, const std::string& rel) {
  std::filesystem::path p = std::filesystem::path(dir_) / rel;
  std::error_code ec;
  std::filesystem::create_directories(p.parent_path(), ec);
  if (::symlink(target.c_str(), p.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("symlink ", p.string(), ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TestGitRepo::Commit(const std::string& message) {
  KILN_RETURN_IF_ERROR(Git({"add", "-A"}).status());
  KILN_RETURN_IF_ERROR(Git({"commit", "-q", "--allow-empty", "-m", message}).status());
  next_time_ += 60;
  return Git({"rev-parse", "HEAD"});
}

absl::StatusOr<std::string> TestGitRepo::Git(const std::vector<std::string>& args) {
  RunOptions opts;
  opts.argv = {"git", "-C", dir_};
  opts.argv.insert(opts.argv.end(), args.begin(), args.end());
  const std::string date = absl::StrCat(next_time_, " +0000");
  const char* path = getenv("PATH");
  opts.env = {absl::StrCat("PATH=", path != nullptr ? path : "/usr/bin:/bin"),
              "HOME=/dev/null",
              "GIT_CONFIG_NOSYSTEM=1",
              "GIT_CONFIG_GLOBAL=/dev/null",
              "GIT_AUTHOR_NAME=kiln test",
              "GIT_AUTHOR_EMAIL=test@kiln.invalid",
              "GIT_COMMITTER_NAME=kiln test",
              "GIT_COMMITTER_EMAIL=test@kiln.invalid",
              "GIT_AUTHOR_DATE=" + date,
              "GIT_COMMITTER_DATE=" + date};
  opts.timeout = absl::Seconds(60);
  KILN_ASSIGN_OR_RETURN(RunResult r, RunProcess(opts));
  if (r.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("git ", args.empty() ? "" : args[0], " failed: ", r.stderr_data));
  }
  return std::string(absl::StripSuffix(r.stdout_data, "\n"));
}

}  // namespace kiln::ops
