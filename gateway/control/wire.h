// Conversions between kiln's types and the control API's messages, shared
// by kilnd and `kiln --addr`.
#ifndef KILN_GATEWAY_CONTROL_WIRE_H_
#define KILN_GATEWAY_CONTROL_WIRE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/contextsync/sync.h"
#include "gateway/progress/progress.h"
#include "proto/control/control.pb.h"

namespace kiln::controlrpc {

namespace cpb = ::kiln::control::v1;

cpb::ProgressEvent ToWire(const progress::Event& e);
progress::Event FromWire(const cpb::ProgressEvent& e);

cpb::ContextEntry ToWire(const contextsync::WireEntry& e);
contextsync::WireEntry FromWire(const cpb::ContextEntry& e);

// Chunk sizes: each message stays far below gRPC's 4 MiB default limit.
constexpr size_t kChunkBytes = 1 << 20;
constexpr size_t kEntriesPerMessage = 2000;

// The daemon's stable name for a client's local directory as filtered:
// one mirror per (identity, name, patterns).
std::string MirrorKey(const std::string& identity, const std::string& name,
                      const std::vector<std::string>& include,
                      const std::vector<std::string>& exclude,
                      const std::vector<std::string>& follow);

// Reads the ssh agent connection's socket `fd` until its end, handing each
// part to `send` as SshData of connection `id`, then the end (eof). Stops
// early when `send` fails.
void SendSocket(int fd, uint64_t id, const std::function<bool(const cpb::SshData&)>& send);

// The text of a PEM file named by `flag`; InvalidArgument naming both when
// it cannot be read.
absl::StatusOr<std::string> ReadTlsFile(const std::string& flag, const std::string& path);

}  // namespace kiln::controlrpc

#endif  // KILN_GATEWAY_CONTROL_WIRE_H_
