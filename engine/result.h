// Result<T> and Error: expected failures as values.
//
// Every operation that can fail for a reason a user can fix (unknown case, refused action, stale
// version, invalid field) returns a Result. Exceptions are kept for bugs and start-up failures.
// Error carries what the HTTP layer needs to build a problem+json answer: a code, a human detail,
// the actions allowed now (lifecycle refusals) and the offending fields (validation).
// Values of these types are immutable once built and safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace redress {

enum class ErrorCode {
  kInvalid,       // a field is missing, mistyped or out of range (HTTP 422, or 400 for syntax)
  kNotFound,      // no such case, commitment, staff member... (404)
  kRefused,       // the lifecycle does not allow this action now (409, with allowed actions)
  kStaleVersion,  // the caller's expected version is not the current one (412)
  kConflict,      // a uniqueness or idempotency conflict (409/422)
  kForbidden,     // the actor may not do this (403)
  kUnavailable,   // storage cannot accept writes now: disk full, read-only (503)
  kInternal,      // a bug or an unexpected storage error (500)
  // A deadline needs a day past the years a workflow's business calendar covers (503 until its
  // holidays are extended). Not a storage failure: the store and the scheduler treat it as a
  // refusal of that one plan.
  kCalendarExhausted,
};

[[nodiscard]] const char* to_string(ErrorCode code);

struct FieldError {
  std::string field;    // JSON path of the field, e.g. "client.email"
  std::string message;  // what is wrong with it
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string detail;
  std::vector<std::string> allowed_actions;  // set for kRefused
  std::vector<FieldError> fields;            // set for kInvalid

  static Error invalid(std::string detail, std::vector<FieldError> fields = {}) {
    return Error{ErrorCode::kInvalid, std::move(detail), {}, std::move(fields)};
  }
  static Error invalid_field(std::string field, std::string message) {
    std::string detail = field + ": " + message;
    return Error{ErrorCode::kInvalid, std::move(detail), {}, {FieldError{std::move(field), std::move(message)}}};
  }
  static Error not_found(std::string detail) { return Error{ErrorCode::kNotFound, std::move(detail), {}, {}}; }
  static Error refused(std::string detail, std::vector<std::string> allowed) {
    return Error{ErrorCode::kRefused, std::move(detail), std::move(allowed), {}};
  }
  static Error stale(std::string detail) { return Error{ErrorCode::kStaleVersion, std::move(detail), {}, {}}; }
  static Error conflict(std::string detail) { return Error{ErrorCode::kConflict, std::move(detail), {}, {}}; }
  static Error forbidden(std::string detail) { return Error{ErrorCode::kForbidden, std::move(detail), {}, {}}; }
  static Error unavailable(std::string detail) { return Error{ErrorCode::kUnavailable, std::move(detail), {}, {}}; }
  static Error internal(std::string detail) { return Error{ErrorCode::kInternal, std::move(detail), {}, {}}; }
  static Error calendar_exhausted(std::string detail) {
    return Error{ErrorCode::kCalendarExhausted, std::move(detail), {}, {}};
  }
};

// A value or an Error. Accessing the wrong alternative is a bug (asserted).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : data_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(data_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(data_);
  }
  Error&& take_error() && {
    assert(!ok());
    return std::get<1>(std::move(data_));
  }

 private:
  std::variant<T, Error> data_;
};

// The result of an operation that yields nothing but may fail.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design
  static Status success() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

}  // namespace redress
