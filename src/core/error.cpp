#include "vmeval/core/error.hpp"

namespace vmeval {

const char* to_string(ErrorCode code) {
    switch (code) {
        case ErrorCode::Usage: return "usage";
        case ErrorCode::Config: return "config";
        case ErrorCode::InvalidQuestion: return "invalid_question";
        case ErrorCode::ModelUnavailable: return "model_unavailable";
        case ErrorCode::Io: return "io";
        case ErrorCode::Video: return "video";
        case ErrorCode::Generation: return "generation";
        case ErrorCode::ContentFiltered: return "content_filtered";
        case ErrorCode::Network: return "network";
        case ErrorCode::Http: return "http";
        case ErrorCode::Timeout: return "timeout";
        case ErrorCode::Cancelled: return "cancelled";
        case ErrorCode::Internal: return "internal";
    }
    return "internal";
}

bool Error::retryable() const noexcept {
    return code_ == ErrorCode::Io || code_ == ErrorCode::Generation || code_ == ErrorCode::Network ||
           code_ == ErrorCode::Timeout;
}

}  // namespace vmeval
