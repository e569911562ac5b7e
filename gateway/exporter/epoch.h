// SOURCE_DATE_EPOCH handling shared by the exporters.
//
// BuildKit's local and tar exporters, given an epoch, stamp EVERY path with
// it (exporter/local/fs.go sets st.ModTime unconditionally). Its image
// exporter's rewrite-timestamp option instead only lowers times newer than
// the epoch. Both are offered; kSetAll is the BuildKit-compatible default
// for these exporters.
#ifndef KILN_GATEWAY_EXPORTER_EPOCH_H_
#define KILN_GATEWAY_EXPORTER_EPOCH_H_

#include <time.h>

#include <cstdint>
#include <optional>

namespace kiln::exporter {

enum class EpochMode {
  kSetAll,      // every mtime becomes the epoch
  kClampNewer,  // mtimes after the epoch become the epoch; older ones stay
};

struct Epoch {
  int64_t seconds = 0;
  EpochMode mode = EpochMode::kSetAll;
};

// The mtime to record for a path whose mtime on disk is `mtime`.
inline struct timespec ApplyEpoch(struct timespec mtime, const std::optional<Epoch>& epoch) {
  if (!epoch.has_value()) return mtime;
  const struct timespec at = {static_cast<time_t>(epoch->seconds), 0};
  if (epoch->mode == EpochMode::kSetAll) return at;
  bool newer = mtime.tv_sec > at.tv_sec || (mtime.tv_sec == at.tv_sec && mtime.tv_nsec > 0);
  return newer ? at : mtime;
}

}  // namespace kiln::exporter

#endif  // KILN_GATEWAY_EXPORTER_EPOCH_H_
