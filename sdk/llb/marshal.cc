#include "sdk/llb/marshal.h"

#include <map>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"
#include "sdk/llb/internal/node.h"

namespace kiln::llb {
namespace {

using llb_internal::CapSet;
using llb_internal::Node;
using llb_internal::Output;

// Gathers SourceMaps in first-use order and the locations of each op.
class SourceCollector {
 public:
  void Add(const std::string& digest, const std::vector<SourceLocation>& locations) {
    for (const SourceLocation& loc : locations) {
      if (loc.source_map == nullptr) continue;
      pb::Location* out = locations_[digest].add_locations();
      out->set_sourceindex(IndexOf(loc.source_map));
      for (const pb::Range& r : loc.ranges) *out->add_ranges() = r;
    }
  }

  void Fill(pb::Source* source) const {
    for (const auto& map : maps_) {
      pb::SourceInfo* info = source->add_infos();
      info->set_filename(map->filename);
      info->set_data(map->data);
      info->set_language(map->language);
      if (map->definition.has_value()) *info->mutable_definition() = *map->definition;
    }
    for (const auto& [digest, locs] : locations_) (*source->mutable_locations())[digest] = locs;
  }

 private:
  static bool SameFile(const SourceMap& a, const SourceMap& b) {
    if (a.filename != b.filename || a.language != b.language || a.data != b.data) return false;
    if (a.definition.has_value() != b.definition.has_value()) return false;
    return !a.definition.has_value() ||
           a.definition->SerializeAsString() == b.definition->SerializeAsString();
  }

  int IndexOf(const std::shared_ptr<const SourceMap>& map) {
    for (size_t i = 0; i < maps_.size(); ++i) {
      if (maps_[i] == map || SameFile(*maps_[i], *map)) return static_cast<int>(i);
    }
    maps_.push_back(map);
    return static_cast<int>(maps_.size() - 1);
  }

  std::vector<std::shared_ptr<const SourceMap>> maps_;
  std::map<std::string, pb::Locations> locations_;
};

void MergeMetadata(const OpOptions& options, const CapSet& caps, pb::OpMetadata* md) {
  if (options.ignore_cache) md->set_ignore_cache(true);
  auto& description = *md->mutable_description();
  for (const auto& [k, v] : options.description) description[k] = v;
  if (!options.custom_name.empty()) description["llb.customname"] = options.custom_name;
  if (options.export_cache.has_value()) {
    md->mutable_export_cache()->set_value(*options.export_cache);
  }
  for (const std::string& cap : caps) (*md->mutable_caps())[cap] = true;
  for (const std::string& cap : options.caps) (*md->mutable_caps())[cap] = true;
  if (options.progress_group.has_value()) {
    pb::ProgressGroup* pg = md->mutable_progress_group();
    pg->set_id(options.progress_group->id);
    pg->set_name(options.progress_group->name);
    pg->set_weak(options.progress_group->weak);
  }
}

class Marshaler final : public llb_internal::MarshalContext {
 public:
  explicit Marshaler(const MarshalOptions& options)
      : default_platform_(options.platform.has_value() ? options.platform->Normalized()
                                                       : Platform::Host()),
        local_unique_id_(options.local_unique_id) {}

  pb::Input InputOf(const Output& out) const override {
    pb::Input in;
    in.set_digest(digests_.at(out.node.get()));
    in.set_index(out.index);
    return in;
  }

  pb::Platform PlatformFor(const std::optional<Platform>& own) const override {
    return own.has_value() ? own->Normalized().ToProto() : default_platform_.ToProto();
  }

  const std::string& local_unique_id() const override { return local_unique_id_; }

  // Emits `root` and everything it depends on, dependencies first. An
  // explicit stack, because graphs of long RUN/COPY chains can be deep.
  absl::Status Visit(const std::shared_ptr<const Node>& root) {
    struct Frame {
      const Node* node;
      std::vector<Output> deps;
      size_t next = 0;
    };
    std::vector<Frame> stack;
    if (digests_.count(root.get()) == 0) stack.push_back({root.get(), root->Deps()});
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (top.next < top.deps.size()) {
        const Node* dep = top.deps[top.next++].node.get();
        if (digests_.count(dep) == 0) stack.push_back({dep, dep->Deps()});
        continue;
      }
      const Node* node = top.node;
      stack.pop_back();
      if (digests_.count(node) == 0) KILN_RETURN_IF_ERROR(Emit(*node));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<pb::Definition> Finish(const Output& target) {
    pb::Op terminal;
    *terminal.add_inputs() = InputOf(target);
    KILN_ASSIGN_OR_RETURN(std::string bytes, SerializeDeterministic(terminal));
    std::string digest = DigestOf(bytes);
    CapSet caps = {"constraints", "platform"};
    for (const auto& [unused, md] : def_.metadata()) {
      if (md.ignore_cache()) caps.insert("meta.ignorecache");
      if (!md.description().empty()) caps.insert("meta.description");
      if (md.has_export_cache()) caps.insert("meta.exportcache");
    }
    def_.add_def(std::move(bytes));
    MergeMetadata(OpOptions(), caps, &(*def_.mutable_metadata())[digest]);
    sources_.Fill(def_.mutable_source());
    return std::move(def_);
  }

 private:
  absl::Status Emit(const Node& node) {
    KILN_RETURN_IF_ERROR(node.error());
    pb::Op op;
    pb::WorkerConstraints* constraints = op.mutable_constraints();
    for (const std::string& f : node.options().worker_constraints) constraints->add_filter(f);
    CapSet caps;
    KILN_RETURN_IF_ERROR(node.Fill(*this, &op, &caps));
    KILN_ASSIGN_OR_RETURN(std::string bytes, SerializeDeterministic(op));
    std::string digest = DigestOf(bytes);
    digests_[&node] = digest;
    MergeMetadata(node.options(), caps, &(*def_.mutable_metadata())[digest]);
    sources_.Add(digest, node.options().source_locations);
    if (emitted_.insert(digest).second) def_.add_def(std::move(bytes));
    return absl::OkStatus();
  }

  const Platform default_platform_;
  const std::string local_unique_id_;
  std::unordered_map<const Node*, std::string> digests_;
  std::set<std::string> emitted_;
  pb::Definition def_;
  SourceCollector sources_;
};

}  // namespace

absl::StatusOr<std::string> SerializeDeterministic(const google::protobuf::MessageLite& message) {
  std::string out;
  bool ok;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    ok = message.SerializeToCodedStream(&coded) && !coded.HadError();
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat("llb: cannot serialize ", message.GetTypeName(),
                                                   " (over protobuf's 2 GiB limit?)"));
  }
  return out;
}

absl::StatusOr<pb::Definition> Marshal(const State& target, const MarshalOptions& options) {
  Output out = llb_internal::StateAccess::OutputOf(target);
  if (out.IsScratch()) return pb::Definition();
  Marshaler marshaler(options);
  KILN_RETURN_IF_ERROR(marshaler.Visit(out.node));
  return marshaler.Finish(out);
}

}  // namespace kiln::llb
