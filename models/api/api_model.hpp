#pragma once

// The one flow every commercial provider shares: check credentials, prepare the image, submit,
// poll until the job ends, download the video, clean up. Providers override small hooks.

#include <atomic>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "vmeval/core/error.hpp"
#include "vmeval/core/params.hpp"
#include "vmeval/http/http.hpp"
#include "vmeval/models/model.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/video/png_encode.hpp"

namespace vmeval::api {

/// What a provider's status endpoint said, in vmeval's words.
struct JobStatus {
    enum class State { Pending, Succeeded, Failed };
    State state = State::Pending;
    std::string provider_state;   ///< the provider's own word ("dreaming", "RUNNING", ...)
    bool started = false;         ///< past the queue (generating), when the provider tells
    double progress = -1;         ///< 0..1 when the provider reports it
    std::string video_url;        ///< where to download from, when Succeeded (if the provider gives one)
    ErrorCode error_code = ErrorCode::Generation;  ///< when Failed
    std::string error_message;    ///< when Failed: the provider's reason, redacted
};

/// A job the provider accepted.
struct Submitted {
    std::string job_id;
    nlohmann::json sent = nlohmann::json::object();  ///< parameters exactly as sent (no image bytes, no keys)
    nlohmann::json extra = nlohmann::json::object(); ///< provider state to keep between hooks (e.g. an uploaded object key)
};

/// How often to poll and for how long.
struct PollTiming {
    double first_s = 5;     ///< wait before the first poll
    double interval_s = 5;  ///< between polls
    double max_interval_s = 15;
    double growth = 1.0;    ///< interval multiplier after each poll
    double deadline_s = 1800;  ///< give up (Error Timeout) after this long since submission
};

/// Settings read from the environment once per model (see env.template).
struct ApiEnvironment {
    std::string base_url;     ///< provider endpoint root, e.g. https://api.lumalabs.ai/dream-machine/v1
    double poll_interval_override_s = -1;  ///< VMEVAL_POLL_INTERVAL_S: fixed poll interval (mock runs)
    double job_timeout_s = -1;       ///< VMEVAL_JOB_TIMEOUT_S overrides the deadline when > 0
    double request_timeout_s = 120;  ///< VMEVAL_HTTP_TIMEOUT_S
    http::RetryPolicy retry;         ///< VMEVAL_HTTP_MAX_ATTEMPTS, VMEVAL_HTTP_RETRY_BASE_S
};

/// Reads `<VAR>` for a provider's base URL (falling back to `fallback`, or to VMEVAL_MOCK_API +
/// `mock_prefix` when that is set) and the shared polling variables.
ApiEnvironment read_environment(const char* base_url_var, const char* fallback, const char* mock_prefix);

/// Reads a required secret from the environment and registers it for redaction. Throws
/// Error(ModelUnavailable) naming the variable when it is unset or empty.
std::string require_secret(const char* variable, const std::string& model);

/// Base of every provider. generate() is the fixed flow; providers implement the hooks.
class ApiModel : public ModelWrapper {
public:
    /// Reads the parameters every API model takes (max_in_flight, timeout_s); providers call
    /// params.expect_only(with_common_params({...their keys...}), name).
    ApiModel(const registry::ModelInfo& info, ApiEnvironment env, const Params& params);
    ~ApiModel() override;

    GenerationResult generate(const GenerationRequest& request) final;
    int max_concurrency() const override { return max_in_flight_; }

protected:
    /// Builds and sends the create request. Throw Error with a specific code on failure (use
    /// fail_from_response for HTTP errors).
    virtual Submitted submit(const GenerationRequest& request, http::CallStats& stats) = 0;
    /// One status request.
    virtual JobStatus poll(const Submitted& job, http::CallStats& stats) = 0;
    /// The request that fetches the finished video (download_to is filled in by the base).
    virtual http::Request download_request(const Submitted& job, const JobStatus& done) = 0;
    /// Best effort: cancel a running job when the user interrupts (no-op where the API can't).
    virtual void cancel(const Submitted& job) { (void)job; }
    /// Best effort: delete what submit() left on other services (uploaded images).
    virtual void cleanup(const Submitted& job) { (void)job; }
    virtual PollTiming poll_timing() const { return {}; }

    /// Sends through the shared client (retries, redaction); the cancel flag of the current
    /// generation is applied.
    http::Response send(const http::Request& request, http::CallStats& stats);
    /// Sends a request whose outcome does not matter (cancelling, deleting): it goes out even after
    /// the user interrupted, waits at most 15 s, and never throws.
    void send_best_effort(http::Request request);
    /// Throws the Error a failed HTTP exchange deserves: 401/403 -> Config ("check VAR"),
    /// 400/404/422 -> Http, 429/5xx after retries -> Http (retryable later), with the provider's
    /// message extracted by `message_of` from the body. `what` names the step ("create", "poll").
    [[noreturn]] void fail_from_response(const std::string& what, const http::Response& response,
                                         const std::string& provider_message) const;

    const registry::ModelInfo& info() const { return info_; }
    const ApiEnvironment& env() const { return env_; }
    http::Client& client() { return *client_; }
    void set_max_in_flight(int n) { max_in_flight_ = n > 0 ? n : 1; }

private:
    const registry::ModelInfo& info_;
    ApiEnvironment env_;
    std::unique_ptr<http::Transport> transport_;
    std::unique_ptr<http::Client> client_;
    int max_in_flight_ = 64;
    static thread_local const std::atomic<bool>* current_cancel_;
};

/// `keys` plus the parameters ApiModel itself reads.
std::vector<std::string> with_common_params(std::vector<std::string> keys);

/// Parses JSON from a response body; throws Error(Http) "<what>: the provider sent malformed JSON".
nlohmann::json parse_json(const std::string& what, const http::Response& response);

/// A request with `Authorization: Bearer <token>`, the scheme Luma, OpenAI, Runway and Kling share.
http::Request bearer_request(const std::string& method, const std::string& url, const std::string& token);

/// Standard base64 (with padding) of bytes, for inline images.
std::string base64(const std::string& bytes);


/// The image letterboxed onto a `width` x `height` canvas of `fill` (scaled to fit, centred).
video::Image letterbox(const video::Image& image, int width, int height, std::uint8_t fill);

}  // namespace vmeval::api
