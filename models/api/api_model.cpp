#include "models/api/api_model.hpp"

#include <algorithm>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "vmeval/core/env.hpp"

namespace vmeval::api {

using json = nlohmann::json;

thread_local const std::atomic<bool>* ApiModel::current_cancel_ = nullptr;

namespace {

double env_seconds(const char* name, double fallback) {
    std::string v = env_or_empty(name);
    if (v.empty()) return fallback;
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end != '\0' || !(d > 0)) {
        throw Error(ErrorCode::Config, std::string(name) + "=" + v + " is not a positive number of seconds");
    }
    return d;
}

/// Runs `fn` once when the scope ends, however it ends.
template <typename Fn>
class AtExit {
public:
    explicit AtExit(Fn fn) : fn_(std::move(fn)) {}
    ~AtExit() {
        try {
            fn_();
        } catch (const std::exception& e) {
            spdlog::warn("cleanup failed: {}", http::redact(e.what()));
        }
    }
    AtExit(const AtExit&) = delete;
    AtExit& operator=(const AtExit&) = delete;

private:
    Fn fn_;
};

std::string excerpt(const std::string& body) {
    std::string s = body.substr(0, 300);
    for (char& c : s) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    return http::redact(s) + (body.size() > 300 ? "..." : "");
}

}  // namespace

ApiEnvironment read_environment(const char* base_url_var, const char* fallback, const char* mock_prefix) {
    ApiEnvironment e;
    e.base_url = env_or_empty(base_url_var);
    if (e.base_url.empty()) {
        std::string mock = env_or_empty("VMEVAL_MOCK_API");
        e.base_url = mock.empty() ? std::string(fallback) : mock + mock_prefix;
    }
    while (!e.base_url.empty() && e.base_url.back() == '/') e.base_url.pop_back();
    e.poll_interval_override_s = env_seconds("VMEVAL_POLL_INTERVAL_S", -1);
    e.job_timeout_s = env_seconds("VMEVAL_JOB_TIMEOUT_S", -1);
    e.request_timeout_s = env_seconds("VMEVAL_HTTP_TIMEOUT_S", 120);
    e.retry.base_delay_s = env_seconds("VMEVAL_HTTP_RETRY_BASE_S", e.retry.base_delay_s);
    std::string attempts = env_or_empty("VMEVAL_HTTP_MAX_ATTEMPTS");
    if (!attempts.empty()) {
        int n = std::atoi(attempts.c_str());
        if (n < 1 || n > 100) {
            throw Error(ErrorCode::Config, "VMEVAL_HTTP_MAX_ATTEMPTS=" + attempts + " must be from 1 to 100");
        }
        e.retry.max_attempts = n;
    }
    return e;
}

std::string require_secret(const char* variable, const std::string& model) {
    std::string value = env_or_empty(variable);
    if (value.empty()) {
        throw Error(ErrorCode::ModelUnavailable, model + " needs " + variable +
                                                     ": set it in the environment or in .env (see env.template)");
    }
    http::add_secret(value);
    return value;
}

std::vector<std::string> with_common_params(std::vector<std::string> keys) {
    keys.push_back("max_in_flight");
    keys.push_back("timeout_s");
    return keys;
}

ApiModel::ApiModel(const registry::ModelInfo& info, ApiEnvironment env, const Params& params)
    : info_(info), env_(std::move(env)), transport_(http::make_curl_transport()) {
    client_ = std::make_unique<http::Client>(*transport_, http::system_clock(), env_.retry);
    max_in_flight_ = params.get_int("max_in_flight", 64, 1, 4096);
    double timeout = params.get_double("timeout_s", -1, 1, 7 * 24 * 3600.0);
    if (timeout > 0) env_.job_timeout_s = timeout;
}

ApiModel::~ApiModel() = default;

http::Response ApiModel::send(const http::Request& request, http::CallStats& stats) {
    http::Request r = request;
    if (r.timeout_s == http::Request{}.timeout_s) r.timeout_s = env_.request_timeout_s;
    return client_->send(r, &stats, current_cancel_);
}

void ApiModel::send_best_effort(http::Request request) {
    request.timeout_s = std::min(request.timeout_s, 15.0);
    try {
        http::CallStats ignored;
        client_->send(request, &ignored, nullptr);
    } catch (const std::exception& e) {
        spdlog::debug("{}: {} failed: {}", info_.name, http::describe(request), http::redact(e.what()));
    }
}

void ApiModel::fail_from_response(const std::string& what, const http::Response& response,
                                  const std::string& provider_message) const {
    std::string msg = std::string(info_.name) + ": " + what + " failed with HTTP " +
                      std::to_string(response.status);
    std::string detail = provider_message.empty() ? excerpt(response.body) : http::redact(provider_message);
    if (!detail.empty()) msg += ": " + detail;
    if (response.status == 401 || response.status == 403) {
        std::string vars = info_.env_vars;
        throw Error(ErrorCode::Config, msg + " (check " + (vars.empty() ? "the credentials" : vars) + ")");
    }
    if (response.status == 404 || response.status == 410) {
        throw Error(ErrorCode::Http, msg + " (the endpoint or model id is not served: the provider may "
                                           "have retired it)");
    }
    throw Error(ErrorCode::Http, msg);
}

GenerationResult ApiModel::generate(const GenerationRequest& request) {
    current_cancel_ = request.cancel;
    http::Clock& clock = client_->clock();
    http::CallStats stats;
    const double t0 = clock.now();

    Submitted job = submit(request, stats);
    const double submitted_at = clock.now();
    spdlog::debug("{}: submitted job {}", info_.name, job.job_id);
    // Cleanup and cancellation requests must go out even when the user has interrupted us.
    AtExit clean([&] {
        current_cancel_ = nullptr;
        cleanup(job);
    });

    PollTiming timing = poll_timing();
    if (env_.poll_interval_override_s > 0) {
        timing.first_s = timing.interval_s = timing.max_interval_s = env_.poll_interval_override_s;
        timing.growth = 1.0;
    }
    if (env_.job_timeout_s > 0) timing.deadline_s = env_.job_timeout_s;

    JobStatus status;
    int polls = 0;
    int bad_polls = 0;
    constexpr int kMaxBadPolls = 3;
    double started_at = -1;
    double interval = timing.first_s;
    try {
        for (;;) {
            clock.sleep(interval, request.cancel);
            try {
                status = poll(job, stats);
                bad_polls = 0;
            } catch (const Error& e) {
                // A garbled or failed status answer says nothing about the job itself: keep
                // polling through a few of them (the HTTP layer has already retried each one).
                bool transient = e.code() == ErrorCode::Http || e.code() == ErrorCode::Network;
                if (!transient || ++bad_polls >= kMaxBadPolls) throw;
                spdlog::warn("{}: status of job {} unreadable ({}); polling again", info_.name,
                             job.job_id, http::redact(e.what()));
                continue;
            }
            ++polls;
            if (status.started && started_at < 0) started_at = clock.now();
            if (status.state != JobStatus::State::Pending) break;
            if (clock.now() - submitted_at > timing.deadline_s) {
                current_cancel_ = nullptr;
                cancel(job);
                throw Error(ErrorCode::Timeout,
                            std::string(info_.name) + ": job " + job.job_id + " did not finish within " +
                                std::to_string(static_cast<long>(timing.deadline_s)) + " s (last state: " +
                                status.provider_state + "); raise it with --param timeout_s=N");
            }
            interval = polls == 1 ? timing.interval_s : std::min(timing.max_interval_s, interval * timing.growth);
        }
    } catch (const Error& e) {
        if (e.code() == ErrorCode::Cancelled) {
            current_cancel_ = nullptr;
            cancel(job);
            throw Error(ErrorCode::Cancelled, std::string("interrupted; ") + info_.name + " job " +
                                                  job.job_id + " was cancelled where the API allows it");
        }
        throw;
    }
    const double done_at = clock.now();
    if (status.state == JobStatus::State::Failed) {
        throw Error(status.error_code, std::string(info_.name) + ": job " + job.job_id + " failed: " +
                                           (status.error_message.empty() ? status.provider_state
                                                                         : status.error_message));
    }

    http::Request dl = download_request(job, status);
    dl.download_to = request.video_path;
    dl.timeout_s = std::max(dl.timeout_s, 600.0);
    http::Response got = send(dl, stats);
    if (!got.ok()) fail_from_response("download", got, "");
    const double end = clock.now();

    GenerationResult result;
    result.parameters = job.sent;
    result.provider = {{"job_id", job.job_id},
                       {"final_state", status.provider_state},
                       {"polls", polls},
                       {"requests", stats.requests},
                       {"retries", stats.retries},
                       {"retry_wait_s", stats.waited_s},
                       {"bytes_sent", stats.bytes_sent},
                       {"bytes_downloaded", got.bytes},
                       {"base_url", env_.base_url}};
    result.phases.emplace_back("submit", submitted_at - t0);
    if (started_at >= 0) {
        result.phases.emplace_back("queue", started_at - submitted_at);
        result.phases.emplace_back("generate", done_at - started_at);
    } else {
        result.phases.emplace_back("queue_and_generate", done_at - submitted_at);
    }
    result.phases.emplace_back("download", end - done_at);
    return result;
}

json parse_json(const std::string& what, const http::Response& response) {
    json j = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        throw Error(ErrorCode::Http, what + ": the provider sent malformed JSON (HTTP " +
                                         std::to_string(response.status) + "): " + excerpt(response.body));
    }
    return j;
}

http::Request bearer_request(const std::string& method, const std::string& url, const std::string& token) {
    http::Request r;
    r.method = method;
    r.url = url;
    r.headers.push_back({"Authorization", "Bearer " + token});
    return r;
}

std::string base64(const std::string& bytes) {
    static const char* kTable = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                     (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
        out += kTable[(v >> 18) & 63];
        out += kTable[(v >> 12) & 63];
        out += kTable[(v >> 6) & 63];
        out += kTable[v & 63];
    }
    if (i < bytes.size()) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += kTable[(v >> 18) & 63];
        out += kTable[(v >> 12) & 63];
        out += i + 1 < bytes.size() ? kTable[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}


video::Image letterbox(const video::Image& image, int width, int height, std::uint8_t fill) {
    double scale = std::min(static_cast<double>(width) / image.width, static_cast<double>(height) / image.height);
    int w = std::max(1, std::min(width, static_cast<int>(image.width * scale + 0.5)));
    int h = std::max(1, std::min(height, static_cast<int>(image.height * scale + 0.5)));
    video::Image scaled = video::resize(image, w, h);
    video::Image canvas(width, height);
    std::fill(canvas.rgb.begin(), canvas.rgb.end(), fill);
    int x0 = (width - w) / 2, y0 = (height - h) / 2;
    for (int y = 0; y < h; ++y) {
        std::copy(scaled.row(y), scaled.row(y) + w * 3, canvas.row(y + y0) + x0 * 3);
    }
    return canvas;
}

}  // namespace vmeval::api
