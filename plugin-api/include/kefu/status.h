// SPDX-License-Identifier: Apache-2.0
//
// Status and Result<T>: the one error vocabulary of the SDK.
//
// Functions that can fail in an expected way return Status (or Result<T> when they also
// produce a value). Exceptions are for bugs and for failures the caller cannot act on; the
// host catches them at every plugin entry point and reports them with the plugin's name.
//
//   kefu::Result<int> parsePort(std::string_view s);
//   auto port = parsePort("8080");
//   if (!port) return port.status();
//   use(*port);
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

// StatusCode says what the caller can do about a failure; pick the most specific one.
enum class StatusCode {
  kOk = 0,
  // The input is malformed or out of range; retrying the same input fails again.
  kInvalidArgument,
  // The named thing (policy, agent, route, plugin) does not exist.
  kNotFound,
  // The thing being created exists already.
  kAlreadyExists,
  // The system is not in the state the call needs (agent not signed in, plugin stopped).
  kFailedPrecondition,
  // The caller is known but lacks the role for this call.
  kPermissionDenied,
  // The caller could not be identified (no token, expired token, wrong password).
  kUnauthenticated,
  // A dependency is down or overloaded (database, PBX); the same call may succeed later.
  kUnavailable,
  // A quota or capacity is exhausted (queue full, too many sessions).
  kResourceExhausted,
  // A bug or broken invariant; the message says which.
  kInternal,
};

// Returns the lower-case name of `code`, e.g. "invalid_argument"; used in API errors.
inline const char* statusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kAlreadyExists: return "already_exists";
    case StatusCode::kFailedPrecondition: return "failed_precondition";
    case StatusCode::kPermissionDenied: return "permission_denied";
    case StatusCode::kUnauthenticated: return "unauthenticated";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kResourceExhausted: return "resource_exhausted";
    case StatusCode::kInternal: return "internal";
  }
  return "unknown";
}

// Status is a code plus a human-readable message. A default-constructed Status is OK.
class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status okStatus() { return {}; }
  static Status invalidArgument(std::string m) { return {StatusCode::kInvalidArgument, m}; }
  static Status notFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status alreadyExists(std::string m) { return {StatusCode::kAlreadyExists, m}; }
  static Status failedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status permissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }
  static Status unavailable(std::string m) { return {StatusCode::kUnavailable, m}; }
  static Status resourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns "code: message", or "ok".
  std::string toString() const {
    if (ok()) return "ok";
    return std::string(statusCodeName(code_)) + ": " + message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Result<T> holds either a T or a non-OK Status.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}                      // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {                // NOLINT: implicit by design
    if (std::get<Status>(v_).ok()) {
      v_ = Status::internal("Result constructed from an OK status without a value");
    }
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // Returns the error, or an OK status when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

KEFU_SDK_NAMESPACE_END
