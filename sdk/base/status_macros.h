// Propagation macros for absl::Status, which Debian's Abseil 20220623 lacks.
//
//   KILN_RETURN_IF_ERROR(DoThing());
//   KILN_ASSIGN_OR_RETURN(auto value, ComputeValue());
//
// Both evaluate their argument once and return the error Status unchanged.
#ifndef KILN_SDK_BASE_STATUS_MACROS_H_
#define KILN_SDK_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define KILN_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status kiln_status_ = (expr);        \
    if (!kiln_status_.ok()) return kiln_status_; \
  } while (0)

#define KILN_STATUS_CONCAT_INNER_(a, b) a##b
#define KILN_STATUS_CONCAT_(a, b) KILN_STATUS_CONCAT_INNER_(a, b)

#define KILN_ASSIGN_OR_RETURN(lhs, expr) \
  KILN_ASSIGN_OR_RETURN_IMPL_(KILN_STATUS_CONCAT_(kiln_statusor_, __LINE__), lhs, expr)

#define KILN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                \
  if (!statusor.ok()) return statusor.status();          \
  lhs = std::move(statusor).value()

#endif  // KILN_SDK_BASE_STATUS_MACROS_H_
