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
        case ErrorCode::Cancelled: return "cancelled";
        case ErrorCode::Internal: return "internal";
    }
    return "internal";
}

bool Error::retryable() const noexcept {
    return code_ == ErrorCode::Io || code_ == ErrorCode::Generation;
}

}  // namespace vmeval
