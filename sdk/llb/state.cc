#include "sdk/llb/state.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "sdk/llb/internal/go_path.h"
#include "sdk/llb/internal/node.h"

namespace kiln::llb_internal {
namespace {

class ErrorOnlyNode final : public Node {
 public:
  explicit ErrorOnlyNode(absl::Status error) : Node({}, std::move(error)) {}
  std::vector<Output> Deps() const override { return {}; }
  absl::Status Fill(const MarshalContext&, pb::Op*, CapSet*) const override { return error(); }
};

const std::shared_ptr<const StateMeta>& DefaultMeta() {
  static const auto* meta = new std::shared_ptr<const StateMeta>(std::make_shared<StateMeta>());
  return *meta;
}

}  // namespace

void StateMeta::SetEnv(std::string key, std::string value) {
  for (auto it = env.begin(); it != env.end(); ++it) {
    if (it->first == key) {
      env.erase(it);
      break;
    }
  }
  env.emplace_back(std::move(key), std::move(value));
}

const std::string* StateMeta::FindEnv(std::string_view key) const {
  for (const auto& [k, v] : env) {
    if (k == key) return &v;
  }
  return nullptr;
}

void DeleteNode(const Node* node) {
  thread_local std::vector<const Node*>* pending = nullptr;
  if (pending != nullptr) {
    pending->push_back(node);
    return;
  }
  std::vector<const Node*> queue = {node};
  pending = &queue;
  while (!queue.empty()) {
    const Node* next = queue.back();
    queue.pop_back();
    delete next;  // may queue the nodes it held the last reference to
  }
  pending = nullptr;
}

std::shared_ptr<const Node> ErrorNode(absl::Status error) {
  return NewNode<ErrorOnlyNode>(std::move(error));
}

int64_t AddInput(const pb::Input& in, google::protobuf::RepeatedPtrField<pb::Input>* inputs) {
  for (int i = 0; i < inputs->size(); ++i) {
    const pb::Input& have = inputs->Get(i);
    if (have.digest() == in.digest() && have.index() == in.index()) return i;
  }
  *inputs->Add() = in;
  return inputs->size() - 1;
}

llb::State StateAccess::Make(Output out, std::shared_ptr<const StateMeta> meta) {
  llb::State s;
  s.node_ = std::move(out.node);
  s.index_ = out.index;
  if (meta != nullptr) s.meta_ = std::move(meta);
  return s;
}

llb::State StateAccess::WithOutput(const llb::State& base, Output out) {
  return Make(std::move(out), base.meta_);
}

llb::State StateAccess::Fresh(Output out, std::optional<llb::Platform> platform) {
  if (!platform.has_value()) return Make(std::move(out), nullptr);
  auto meta = std::make_shared<StateMeta>();
  meta->platform = platform->Normalized();
  return Make(std::move(out), std::move(meta));
}

}  // namespace kiln::llb_internal

namespace kiln::llb {

using llb_internal::StateMeta;

namespace {

// A copy of `s` whose meta has been changed by `edit`.
template <typename Edit>
State EditMeta(const State& s, Edit edit) {
  auto meta = std::make_shared<StateMeta>(llb_internal::StateAccess::MetaOf(s));
  edit(*meta);
  return llb_internal::StateAccess::Make(llb_internal::StateAccess::OutputOf(s), std::move(meta));
}

}  // namespace

State::State() : meta_(llb_internal::DefaultMeta()) {}

bool State::IsScratch() const { return node_ == nullptr; }

State State::WithFilesystem(const State& fs) const {
  State s = fs;
  s.meta_ = meta_;
  return s;
}

State State::AddEnv(std::string_view key, std::string_view value) const {
  return EditMeta(*this, [&](StateMeta& m) { m.SetEnv(std::string(key), std::string(value)); });
}

State State::Dir(std::string_view path) const {
  return EditMeta(*this, [&](StateMeta& m) {
    if (llb_internal::IsAbsPath(path)) {
      m.dir = std::string(path);
    } else {
      m.dir = llb_internal::JoinPath({m.dir.empty() ? "/" : m.dir, path});
    }
  });
}

State State::User(std::string_view user) const {
  return EditMeta(*this, [&](StateMeta& m) { m.user = std::string(user); });
}

State State::Hostname(std::string_view hostname) const {
  return EditMeta(*this, [&](StateMeta& m) { m.hostname = std::string(hostname); });
}

State State::Network(pb::NetMode mode) const {
  return EditMeta(*this, [&](StateMeta& m) { m.network = mode; });
}

State State::Security(pb::SecurityMode mode) const {
  return EditMeta(*this, [&](StateMeta& m) { m.security = mode; });
}

State State::WithPlatform(const Platform& platform) const {
  return EditMeta(*this, [&](StateMeta& m) { m.platform = platform.Normalized(); });
}

std::optional<std::string> State::GetEnv(std::string_view key) const {
  const std::string* v = meta_->FindEnv(key);
  if (v == nullptr) return std::nullopt;
  return *v;
}

std::vector<std::string> State::Env() const {
  std::vector<std::string> out;
  out.reserve(meta_->env.size());
  for (const auto& [k, v] : meta_->env) out.push_back(absl::StrCat(k, "=", v));
  return out;
}

const std::string& State::GetDir() const { return meta_->dir; }
const std::string& State::GetUser() const { return meta_->user; }
const std::string& State::GetHostname() const { return meta_->hostname; }
pb::NetMode State::GetNetwork() const { return meta_->network; }
pb::SecurityMode State::GetSecurity() const { return meta_->security; }
const std::optional<Platform>& State::GetPlatform() const { return meta_->platform; }

}  // namespace kiln::llb
