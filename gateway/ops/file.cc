// The file op: a sequence of actions, each on the result of an op input,
// of an earlier action, or of scratch. Each action commits one layer.
// Copy sources key the vertex by the content they copy.
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/path.h"
#include "gateway/ops/file/actions.h"
#include "gateway/ops/file/chown.h"
#include "gateway/ops/internal.h"
#include "sdk/base/status_macros.h"

namespace kiln::ops_internal {
namespace {

std::string ActionName(const pb::FileAction& a) {
  switch (a.action_case()) {
    case pb::FileAction::kCopy:
      return absl::StrCat("copy ", a.copy().src(), " to ", a.copy().dest());
    case pb::FileAction::kMkfile:
      return "mkfile " + a.mkfile().path();
    case pb::FileAction::kMkdir:
      return "mkdir " + a.mkdir().path();
    case pb::FileAction::kRm:
      return "rm " + a.rm().path();
    case pb::FileAction::kSymlink:
      return "symlink " + a.symlink().newpath();
    default:
      return "unknown action";
  }
}

// The paths an action names, each relative to some root.
std::vector<const std::string*> ActionPaths(const pb::FileAction& a) {
  switch (a.action_case()) {
    case pb::FileAction::kCopy:
      return {&a.copy().src(), &a.copy().dest()};
    case pb::FileAction::kMkfile:
      return {&a.mkfile().path()};
    case pb::FileAction::kMkdir:
      return {&a.mkdir().path()};
    case pb::FileAction::kRm:
      return {&a.rm().path()};
    case pb::FileAction::kSymlink:
      return {&a.symlink().newpath()};
    default:
      return {};
  }
}

class FileRunner : public solver::OpRunner {
 public:
  explicit FileRunner(const solver::Vertex& v) : v_(v) {}

  absl::StatusOr<solver::CacheMap> GetCacheMap(solver::OpContext&) override {
    solver::CacheMap cm;
    cm.digest = ops::OpDigest("file", v_.op);
    int n = v_.op.inputs_size();
    cm.selectors.resize(n);
    // An input used only as a copy source counts by the bytes copied; one
    // that is also the base of an action counts by its key.
    std::set<int64_t> bases;
    for (const pb::FileAction& a : v_.op.file().actions()) bases.insert(a.input());
    for (const pb::FileAction& a : v_.op.file().actions()) {
      if (a.action_case() != pb::FileAction::kCopy) continue;
      int64_t src = a.secondaryinput();
      if (src < 0 || src >= n || bases.count(src)) continue;
      const pb::FileActionCopy& c = a.copy();
      solver::Selector sel;
      sel.path = c.src();
      sel.follow_links = c.followsymlink();
      sel.wildcard = c.allowwildcard();
      sel.include_patterns.assign(c.include_patterns().begin(), c.include_patterns().end());
      sel.exclude_patterns.assign(c.exclude_patterns().begin(), c.exclude_patterns().end());
      cm.selectors[src].push_back(std::move(sel));
    }
    return cm;
  }

  absl::StatusOr<std::vector<cache::Committed>> Run(
      solver::OpContext& ctx, const std::vector<cache::Chain>& inputs) override {
    const auto& actions = v_.op.file().actions();
    int64_t n = static_cast<int64_t>(inputs.size());
    std::vector<cache::Committed> results(actions.size());
    std::vector<cache::Committed> outputs(v_.num_outputs);
    auto chain_of = [&](int64_t ref, size_t before) -> absl::StatusOr<cache::Chain> {
      if (ref < 0) return cache::Chain{};
      if (ref < n) return inputs[ref];
      if (ref - n >= static_cast<int64_t>(before)) {
        return absl::InvalidArgumentError(absl::StrCat("file action refers to action ", ref - n,
                                                       ", which does not come before it"));
      }
      return results[ref - n].chain;
    };
    // How often each action's result is used by a later action, so that a
    // run of actions each working on the one before (COPY a b c: three
    // copies) shares one snapshot and commits one layer, as BuildKit's
    // file op does.
    std::vector<int> uses(actions.size(), 0);
    auto use = [&](int64_t ref) {
      if (ref >= n && ref - n < static_cast<int64_t>(actions.size())) ++uses[ref - n];
    };
    for (const pb::FileAction& a : actions) {
      use(a.input());
      if (a.has_copy()) use(a.secondaryinput());  // only copies read a second input
    }
    std::unique_ptr<cache::Active> open;  // the run's snapshot, not yet committed
    for (size_t i = 0; i < static_cast<size_t>(actions.size()); ++i) {
      if (ctx.cancelled()) return absl::CancelledError("build cancelled");
      const pb::FileAction& a = actions[i];
      if (open == nullptr) {
        KILN_ASSIGN_OR_RETURN(cache::Chain base, chain_of(a.input(), i));
        KILN_ASSIGN_OR_RETURN(open, ctx.snapshotter()->Prepare(base));
      }
      // Action errors name their path already.
      KILN_RETURN_IF_ERROR(Apply(ctx, a, open->path(), chain_of, i));
      bool next_continues = i + 1 < static_cast<size_t>(actions.size()) &&
                            actions[i + 1].input() == n + static_cast<int64_t>(i) && uses[i] == 1 &&
                            a.output() < 0;
      if (!next_continues) {
        KILN_ASSIGN_OR_RETURN(results[i], open->Commit());
        open.reset();
      }
      if (a.output() >= 0) outputs[a.output()].chain = results[i].chain;
    }
    // Every layer an action wrote is recorded, intermediate ones included:
    // the outputs' chains stand on them.
    for (cache::Committed& r : results) {
      outputs[0].new_layers.insert(outputs[0].new_layers.end(), r.new_layers.begin(),
                                   r.new_layers.end());
    }
    return outputs;
  }

 private:
  // Applies action `a` to the snapshot at `dest`.
  template <typename ChainOf>
  absl::Status Apply(solver::OpContext& ctx, const pb::FileAction& a, const std::string& dest,
                     ChainOf& chain_of, size_t i) {
    cache::Snapshotter* snap = ctx.snapshotter();
    // Views of other results stay mounted while the action runs.
    std::vector<std::unique_ptr<cache::Mount>> views;
    auto root_of = [&](int64_t ref) -> absl::StatusOr<std::string> {
      if (ref == a.input()) return dest;
      KILN_ASSIGN_OR_RETURN(cache::Chain c, chain_of(ref, i));
      KILN_ASSIGN_OR_RETURN(std::unique_ptr<cache::Mount> m, snap->View(c));
      views.push_back(std::move(m));
      return views.back()->path();
    };
    const pb::ChownOpt* chown = nullptr;
    if (a.has_copy() && a.copy().has_owner()) chown = &a.copy().owner();
    if (a.has_mkdir() && a.mkdir().has_owner()) chown = &a.mkdir().owner();
    if (a.has_mkfile() && a.mkfile().has_owner()) chown = &a.mkfile().owner();
    if (a.has_symlink() && a.symlink().has_owner()) chown = &a.symlink().owner();
    KILN_ASSIGN_OR_RETURN(std::optional<ops::Ownership> owner,
                          ops::ResolveChown(chown, root_of, dest));
    switch (a.action_case()) {
      case pb::FileAction::kMkdir:
        KILN_RETURN_IF_ERROR(ops::ApplyMkdir(dest, a.mkdir(), owner));
        break;
      case pb::FileAction::kMkfile:
        KILN_RETURN_IF_ERROR(ops::ApplyMkfile(dest, a.mkfile(), owner));
        break;
      case pb::FileAction::kRm:
        KILN_RETURN_IF_ERROR(ops::ApplyRm(dest, a.rm()));
        break;
      case pb::FileAction::kSymlink:
        KILN_RETURN_IF_ERROR(ops::ApplySymlink(dest, a.symlink(), owner));
        break;
      case pb::FileAction::kCopy: {
        KILN_ASSIGN_OR_RETURN(std::string src, root_of(a.secondaryinput()));
        KILN_RETURN_IF_ERROR(ops::ApplyCopy(src, dest, a.copy(), owner));
        break;
      }
      default:
        return absl::InvalidArgumentError("file action has no known type");
    }
    return absl::OkStatus();
  }

  const solver::Vertex& v_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewFileRunner(const solver::Vertex& v) {
  int64_t n = v.op.inputs_size();
  const auto& actions = v.op.file().actions();
  if (actions.empty()) return absl::InvalidArgumentError("file op without actions");
  for (int i = 0; i < actions.size(); ++i) {
    const pb::FileAction& a = actions[i];
    for (int64_t ref : {a.input(), a.secondaryinput()}) {
      if (ref >= n + i) {
        return absl::InvalidArgumentError(
            absl::StrCat("file action ", i, " (", ActionName(a), ") refers to input ", ref,
                         ", but only ", n, " inputs and ", i, " earlier actions exist"));
      }
    }
    for (const std::string* path : ActionPaths(a)) {
      if (fsutil::EscapesRoot(*path)) {
        return absl::InvalidArgumentError(absl::StrCat("file action ", i, " (", ActionName(a),
                                                       "): path ", *path, " is outside its root"));
      }
    }
    if (a.action_case() == pb::FileAction::kCopy && a.secondaryinput() < -1) {
      return absl::InvalidArgumentError(
          absl::StrCat("file action ", i, " (", ActionName(a), ") has no copy source"));
    }
  }
  return std::make_unique<FileRunner>(v);
}

}  // namespace kiln::ops_internal
