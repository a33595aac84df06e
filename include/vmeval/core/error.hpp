#pragma once

#include <stdexcept>
#include <string>

namespace vmeval {

/// What went wrong, coarse enough for scripts to act on (it is written to metadata.json as a string).
enum class ErrorCode {
    Usage,             ///< bad command line: exit 2
    Config,            ///< bad environment or configuration: exit 2
    InvalidQuestion,   ///< a question folder is broken; the batch goes on
    ModelUnavailable,  ///< the model cannot run in this build or on this machine
    Io,                ///< reading or writing a file failed
    Video,             ///< encoding, decoding or probing a video failed
    Generation,        ///< the model ran and failed
    ContentFiltered,   ///< the provider refused the input or output on content grounds
    Network,           ///< no HTTP answer: DNS, connect, TLS, reset, transfer timeout
    Http,              ///< the provider answered with an error status that retrying cannot fix
    Timeout,           ///< a job did not finish before its deadline
    Cancelled,         ///< the user interrupted the batch
    Internal,          ///< a bug in vmeval
};

/// Stable lower-case name of a code, e.g. "invalid_question".
const char* to_string(ErrorCode code);

/// The one exception type vmeval throws; the message names the file or setting and the fix.
class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ErrorCode code() const noexcept { return code_; }
    /// True when trying the same thing again may succeed.
    bool retryable() const noexcept;

private:
    ErrorCode code_;
};

}  // namespace vmeval
