// Kling AI image-to-video (official API; every request carries a fresh HS256 JWT, see
// kling_jwt.hpp).
//
//   POST {base}/v1/videos/image2video            -> {"code":0,"data":{"task_id","task_status"}}
//   GET  {base}/v1/videos/image2video/{task_id}  -> data.task_status, task_status_msg, task_result
//   GET  data.task_result.videos[0].url (no auth)
//
// Lifecycle: submitted -> processing -> succeed | failed (task_status_msg says why). Every answer
// is an envelope {code, message, request_id, data}: code 0 is success whatever the HTTP status
// says, so both are checked. Kling documents no cancel endpoint: an interrupted task runs on.
// base: VMEVAL_KLING_BASE_URL, default https://api-singapore.klingai.com.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <string>

#include "models/api/api_model.hpp"
#include "models/api/kling_jwt.hpp"
#include "models/api/providers.hpp"
#include "models/api/response_parsers.hpp"
#include "src/mock/prefixes.hpp"

namespace vmeval::api {

using json = nlohmann::json;

std::string base64url(const std::string& bytes) {
    std::string s = base64(bytes);
    while (!s.empty() && s.back() == '=') s.pop_back();
    std::replace(s.begin(), s.end(), '+', '-');
    std::replace(s.begin(), s.end(), '/', '_');
    return s;
}

std::string kling_jwt(const std::string& access_key, const std::string& secret_key,
                      std::int64_t now_unix) {
    // nlohmann orders keys alphabetically: {"alg","typ"} as Kling's sample writes it.
    const json header = {{"alg", "HS256"}, {"typ", "JWT"}};
    const json payload = {{"iss", access_key},
                          {"exp", now_unix + kKlingTokenLifetimeS},
                          {"nbf", now_unix - kKlingTokenLeewayS}};
    const std::string signing_input = base64url(header.dump()) + "." + base64url(payload.dump());
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (HMAC(EVP_sha256(), secret_key.data(), static_cast<int>(secret_key.size()),
             reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
             mac, &mac_len) == nullptr) {
        throw Error(ErrorCode::Internal, "cannot compute HMAC-SHA256 for the Kling token");
    }
    return signing_input + "." + base64url(std::string(reinterpret_cast<char*>(mac), mac_len));
}

namespace {

constexpr const char* kAccessVar = "KLING_ACCESS_KEY";
constexpr const char* kSecretVar = "KLING_SECRET_KEY";
constexpr size_t kMaxPromptChars = 2500;              // prompt and negative_prompt each
constexpr size_t kMaxImageBytes = 10u * 1024 * 1024;  // the decoded image file
constexpr int kMinSide = 300;
constexpr double kMaxAspect = 2.5;  // 1:2.5 .. 2.5:1
constexpr int kMaxSide = 1920;      // pro renders 1080p; more only costs upload

struct Settings {
    int duration = 5;
    std::string mode;  ///< empty: not sent (kling-v2-1-master has no std/pro split)
    std::string negative_prompt;
};

size_t utf8_length(const std::string& s) {
    return static_cast<size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

/// Content-policy wording in task_status_msg. Kling documents codes 1300/1301 for synchronous
/// refusals but not the text of an asynchronous one, so this matches the usual phrasings
/// ("risk control", "content security policy", "sensitive", "violation") in English and Chinese.
bool looks_like_moderation(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    for (const char* p :
         {"risk control", "content security", "security polic", "sensitive", "moderat", "violat",
          "inappropriate", "prohibited", "风控", "敏感", "违规", "审核"}) {
        if (text.find(p) != std::string::npos) return true;
    }
    return false;
}

/// The image Kling accepts: aspect within 1:2.5..2.5:1 (white bars added where it is not), each
/// side >= 300 px (small question images are scaled up), long side <= 1920, PNG <= 10 MB.
video::Image prepare_image(const video::Image& in, std::string& png) {
    double cw = in.width, ch = in.height;
    if (cw > kMaxAspect * ch) ch = std::ceil(cw / kMaxAspect);
    if (ch > kMaxAspect * cw) cw = std::ceil(ch / kMaxAspect);
    double scale = 1.0;
    if (std::min(cw, ch) < kMinSide) scale = kMinSide / std::min(cw, ch);
    if (std::max(cw, ch) * scale > kMaxSide) scale = kMaxSide / std::max(cw, ch);
    for (int attempt = 0;; ++attempt) {
        int w = std::max(kMinSide, static_cast<int>(std::lround(cw * scale)));
        int h = std::max(kMinSide, static_cast<int>(std::lround(ch * scale)));
        if (w > kMaxAspect * h) h = static_cast<int>(std::ceil(w / kMaxAspect));
        if (h > kMaxAspect * w) w = static_cast<int>(std::ceil(h / kMaxAspect));
        video::Image out = (w == in.width && h == in.height) ? in : letterbox(in, w, h, 255);
        png = video::encode_png(out);
        if (png.size() <= kMaxImageBytes) return out;
        if (attempt >= 8 || std::min(w, h) <= kMinSide) {
            throw Error(ErrorCode::InvalidQuestion,
                        "the first frame does not fit Kling's 10 MB image limit as "
                        "PNG even at " +
                            std::to_string(w) + "x" + std::to_string(h));
        }
        scale *= 0.8;
    }
}

/// The string at `key`, or "" when absent or not a string.
std::string text_at(const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

KlingEnvelope kling_envelope(const std::string& body) {
    KlingEnvelope env;
    json j = json::parse(body, nullptr, false);
    if (!j.is_object() || !j.contains("code") || !j["code"].is_number_integer()) return env;
    env.has_code = true;
    env.code = j["code"].get<long>();
    auto data = j.find("data");
    if (data != j.end()) env.data = *data;
    const std::string message = text_at(j, "message");
    env.detail =
        "code " + std::to_string(env.code) + ": " + (message.empty() ? "no message" : message);
    const std::string request_id = text_at(j, "request_id");
    if (!request_id.empty()) env.detail += " (request_id " + request_id + ")";
    return env;
}

std::string kling_task_id(const json& data) {
    std::string id = data.is_object() ? text_at(data, "task_id") : "";
    return id.find_first_of("/?#") == std::string::npos ? id : "";
}

JobStatus kling_status(const std::string& model, const json& data, const std::string& body) {
    if (!data.is_object()) {
        throw Error(ErrorCode::Http,
                    model + ": poll: unexpected task shape (data is not an object): " +
                        http::redact(body.substr(0, 300)));
    }
    JobStatus st;
    try {
        st.provider_state = data.value("task_status", "");
        if (st.provider_state == "processing") st.started = true;
        if (st.provider_state == "succeed") {
            const json videos =
                data.value("task_result", json::object()).value("videos", json::array());
            std::string url =
                videos.is_array() && !videos.empty() ? videos[0].value("url", "") : "";
            if (url.empty()) {
                st.state = JobStatus::State::Failed;
                st.error_message = "task succeeded but task_result.videos[0].url is missing";
            } else {
                st.state = JobStatus::State::Succeeded;
                st.video_url = url;
            }
        } else if (st.provider_state == "failed") {
            std::string msg = data.value("task_status_msg", "");
            st.state = JobStatus::State::Failed;
            st.error_code =
                looks_like_moderation(msg) ? ErrorCode::ContentFiltered : ErrorCode::Generation;
            st.error_message =
                http::redact("task_status failed: " + (msg.empty() ? "no reason given" : msg));
        }
    } catch (const json::exception& e) {
        throw Error(ErrorCode::Http, model + ": poll: unexpected task shape (" + e.what() +
                                         "): " + http::redact(body.substr(0, 300)));
    }
    return st;  // submitted, processing, or a state Kling has not documented: keep polling
}

namespace {

class KlingModel : public ApiModel {
public:
    KlingModel(const registry::ModelInfo& info, ApiEnvironment env, const Params& params,
               std::string access, std::string secret, Settings settings)
        : ApiModel(info, std::move(env), params),
          access_(std::move(access)),
          secret_(std::move(secret)),
          settings_(std::move(settings)) {}

protected:
    Submitted submit(const GenerationRequest& request, http::CallStats& stats) override {
        if (utf8_length(request.prompt) > kMaxPromptChars) {
            throw Error(ErrorCode::InvalidQuestion,
                        std::string(info().name) + ": the prompt has " +
                            std::to_string(utf8_length(request.prompt)) +
                            " characters; Kling takes at most 2500");
        }
        std::string png;
        video::Image image = prepare_image(*request.first_frame, png);
        json body = {{"model_name", info().provider_model_id},
                     {"image", base64(png)},  // raw base64: Kling rejects a data: prefix
                     {"prompt", request.prompt},
                     {"duration", std::to_string(settings_.duration)}};
        if (!settings_.mode.empty()) body["mode"] = settings_.mode;
        if (!settings_.negative_prompt.empty()) body["negative_prompt"] = settings_.negative_prompt;

        http::Request r = authed("POST", env().base_url + "/v1/videos/image2video");
        r.headers.push_back({"Content-Type", "application/json"});
        r.body = body.dump();
        http::Response resp = send(r, stats);
        json data = envelope_data("create", resp);
        std::string task_id = kling_task_id(data);
        if (task_id.empty()) {
            throw Error(ErrorCode::Http, std::string(info().name) +
                                             ": create answered without a usable task_id: " +
                                             http::redact(resp.body.substr(0, 300)));
        }

        Submitted job;
        job.job_id = task_id;
        job.sent = {{"model", info().provider_model_id},
                    {"duration_s", settings_.duration},
                    {"image_width", image.width},
                    {"image_height", image.height},
                    {"image_format", "png"},
                    {"image_adjusted", image.width != request.first_frame->width ||
                                           image.height != request.first_frame->height}};
        if (!settings_.mode.empty()) job.sent["mode"] = settings_.mode;
        if (!settings_.negative_prompt.empty()) {
            job.sent["negative_prompt"] = settings_.negative_prompt;
        }
        return job;
    }

    JobStatus poll(const Submitted& job, http::CallStats& stats) override {
        http::Response resp =
            send(authed("GET", env().base_url + "/v1/videos/image2video/" + job.job_id), stats);
        return kling_status(info().name, envelope_data("poll", resp), resp.body);
    }

    http::Request download_request(const Submitted&, const JobStatus& done) override {
        http::Request r;
        r.url = done.video_url;  // a CDN URL that needs no credentials
        return r;
    }

    PollTiming poll_timing() const override {
        PollTiming t;  // a 5 s clip takes one to two minutes
        t.first_s = 10;
        t.interval_s = 5;
        t.max_interval_s = 10;
        t.growth = 1.2;
        return t;
    }

private:
    http::Request authed(const char* method, const std::string& url) const {
        return bearer_request(method, url, kling_jwt(access_, secret_, std::time(nullptr)));
    }

    /// `data` of a successful envelope; otherwise throws what Kling's code means.
    json envelope_data(const std::string& what, const http::Response& resp) const {
        const std::string name = info().name;
        const KlingEnvelope env = kling_envelope(resp.body);
        if (!env.has_code) {
            if (!resp.ok()) fail_from_response(what, resp, "");
            parse_json(name + ": " + what, resp);  // throws for malformed JSON
            throw Error(ErrorCode::Http, name + ": " + what +
                                             ": the answer has no envelope code: " +
                                             http::redact(resp.body.substr(0, 300)));
        }
        const long code = env.code;
        if (code == 0 && resp.ok()) return env.data;

        const std::string& detail = env.detail;
        std::string msg = name + ": " + what + " failed with HTTP " + std::to_string(resp.status) +
                          ": " + http::redact(detail);
        if (code >= 1000 && code <= 1004) {
            std::string hint = code == 1003 || code == 1004
                                   ? "; also check this machine's clock, which dates "
                                     "the token"
                                   : "";
            throw Error(ErrorCode::Config,
                        msg + " (check " + kAccessVar + " and " + kSecretVar + hint + ")");
        }
        if (code == 1300 || code == 1301) throw Error(ErrorCode::ContentFiltered, msg);
        // Account and balance (1100-1103), parameters (1200-1203), rate (1302-1304), server
        // (5000+): retrying now cannot help (the HTTP layer has already retried 429 and 5xx).
        throw Error(ErrorCode::Http, msg);
    }

    std::string access_;
    std::string secret_;
    Settings settings_;
};

Settings read_settings(const registry::ModelInfo& info, const Params& params) {
    Settings s;
    const std::string name = info.name;
    const bool master = std::string(info.provider_model_id) == "kling-v2-1-master";
    int fallback =
        static_cast<int>(std::lround(info.defaults.duration_s > 0 ? info.defaults.duration_s : 5));
    s.duration = params.get_int("duration", fallback, 1, 60);
    if (s.duration != 5 && s.duration != 10) {
        throw Error(ErrorCode::Usage, name + ": --param duration=" + std::to_string(s.duration) +
                                          " is not offered: Kling renders 5 or 10 seconds");
    }
    if (!master) {
        s.mode = params.get_string("mode", "std");
        if (s.mode != "std" && s.mode != "pro") {
            throw Error(ErrorCode::Usage,
                        name + ": --param mode=" + s.mode + ": use std (720p) or pro (1080p)");
        }
    }
    s.negative_prompt = params.get_string("negative_prompt", "");
    if (utf8_length(s.negative_prompt) > kMaxPromptChars) {
        throw Error(ErrorCode::Usage,
                    name + ": --param negative_prompt is longer than Kling's 2500 characters");
    }
    return s;
}

}  // namespace

std::unique_ptr<ModelWrapper> make_kling(const registry::ModelInfo& info, const Params& params) {
    // kling-v2-1-master has one quality tier, so it takes no mode rather than ignoring one.
    const bool master = std::string(info.provider_model_id) == "kling-v2-1-master";
    params.expect_only(
        with_common_params(master
                               ? std::vector<std::string>{"duration", "negative_prompt"}
                               : std::vector<std::string>{"duration", "mode", "negative_prompt"}),
        info.name);
    Settings settings = read_settings(info, params);
    std::string access = require_secret(kAccessVar, info.name);
    std::string secret = require_secret(kSecretVar, info.name);
    ApiEnvironment env = read_environment("VMEVAL_KLING_BASE_URL",
                                          "https://api-singapore.klingai.com", mock::kKlingPrefix);
    return std::make_unique<KlingModel>(info, std::move(env), params, std::move(access),
                                        std::move(secret), std::move(settings));
}

}  // namespace vmeval::api
