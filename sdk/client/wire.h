// Conversions between the SDK's types and LLBBridge messages, shared by the
// client (sdk/client) and kiln's server (gateway/frontend).
//
//   fsutil::types::Stat s = client::StatToWire(stat);   // Unix mode -> Go os.FileMode
//   frontend::FileStat back = client::StatFromWire(s);
//
// Pure functions; thread-safe.
#ifndef KILN_SDK_CLIENT_WIRE_H_
#define KILN_SDK_CLIENT_WIRE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"
#include "proto/gateway/stat.pb.h"
#include "proto/gateway/status.pb.h"
#include "sdk/frontend/frontend.h"

namespace kiln::client {

// st_mode (type and permission bits) <-> Go's os.FileMode, which fsutil's
// Stat carries.
uint32_t GoFileMode(uint32_t unix_mode);
uint32_t UnixFileMode(uint32_t go_mode);

fsutil::types::Stat StatToWire(const frontend::FileStat& stat);
frontend::FileStat StatFromWire(const fsutil::types::Stat& stat);

// gRPC and Abseil use the same code numbers.
grpc::Status ToGrpc(const absl::Status& status);
absl::Status FromGrpc(const grpc::Status& status);
google::rpc::Status ToRpcStatus(const absl::Status& status);
absl::Status FromRpcStatus(const google::rpc::Status& status);

}  // namespace kiln::client

#endif  // KILN_SDK_CLIENT_WIRE_H_
