// Cooperative cancellation for long-running source fetches.
//
// A CancelFn is polled by a fetch (between chunks of a download, while a
// subprocess runs); returning true makes the fetch stop and return
// absl::CancelledError. An empty CancelFn means "never cancelled". It may be
// called from the fetching thread only, so it need not be thread-safe beyond
// whatever state it reads (typically an atomic flag or a deadline).
#ifndef KILN_GATEWAY_OPS_SOURCE_CANCEL_H_
#define KILN_GATEWAY_OPS_SOURCE_CANCEL_H_

#include <functional>

namespace kiln::ops {

using CancelFn = std::function<bool()>;

inline bool IsCancelled(const CancelFn& cancelled) { return cancelled && cancelled(); }

}  // namespace kiln::ops

#endif  // KILN_GATEWAY_OPS_SOURCE_CANCEL_H_
