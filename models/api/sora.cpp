// OpenAI Sora (sora-2, sora-2-pro) through the Videos API. OpenAI announced that this API shuts
// down on 2026-09-24; once it has, answers that say so become one clear Error(Http).
//
// Endpoints (base https://api.openai.com/v1, `Authorization: Bearer $OPENAI_API_KEY`):
//   POST   /videos               multipart/form-data: model, prompt, size ("1280x720"...),
//                                seconds ("4"|"8"|"12") and the file part input_reference, a PNG
//                                of exactly `size` pixels (the API rejects any other size)
//   GET    /videos/{id}          status queued -> in_progress (progress 0..100) -> completed
//                                | failed (error {code, message}; moderation_blocked and
//                                sentinel_block are content filters)
//   GET    /videos/{id}/content  the MP4, with the same Authorization
//   DELETE /videos/{id}          deletes a completed or failed video; there is no cancel endpoint,
//                                so interrupting a running job only stops our polling
// Parameters: size=WxH (sora-2: 1280x720, 720x1280; sora-2-pro adds 1024x1792, 1792x1024;
// default: landscape or portrait after the input image), seconds=4|8|12 (default: the catalog's 8).

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>

#include "models/api/api_model.hpp"
#include "models/api/providers.hpp"
#include "models/api/response_parsers.hpp"
#include "src/mock/prefixes.hpp"

namespace vmeval::api {

namespace {

using json = nlohmann::json;

constexpr const char* kDefaultBase = "https://api.openai.com/v1";
constexpr std::uint8_t kLetterboxGrey = 128;  // the original's padding colour

struct Size {
    int width = 0;
    int height = 0;
    std::string text() const { return std::to_string(width) + "x" + std::to_string(height); }
};

std::vector<Size> sizes_for(const std::string& model) {
    std::vector<Size> s = {{1280, 720}, {720, 1280}};
    if (model.rfind("sora-2-pro", 0) == 0) {
        s.push_back({1792, 1024});
        s.push_back({1024, 1792});
    }
    return s;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

/// The string at `key` of an object, or "" when absent or not a string.
std::string text_of(const json& object, const char* key) {
    if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
    return object[key].get<std::string>();
}

/// Whether an answer says that the Videos API (or this model) is gone rather than that our
/// request was wrong: 410, a 404 on the create route, or a body that talks of a shutdown.
bool says_shut_down(const std::string& step, const http::Response& r) {
    if (r.status == 410 || (r.status == 404 && step == "create")) return true;
    std::string body = lower(r.body);
    for (const char* word :
         {"deprecat", "shut down", "shutdown", "sunset", "no longer available"}) {
        if (body.find(word) != std::string::npos) return true;
    }
    return false;
}

bool is_moderation(const std::string& code) {
    std::string c = lower(code);
    return c.find("moderation") != std::string::npos || c.find("sentinel") != std::string::npos ||
           c.find("content_policy") != std::string::npos || c.find("safety") != std::string::npos;
}

}  // namespace

std::string openai_message(const std::string& body) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("error")) return "";
    const json& e = j["error"];
    if (e.is_string()) return e.get<std::string>();
    std::string msg = text_of(e, "message");
    std::string code = text_of(e, "code");
    return code.empty() ? msg : msg + " (" + code + ")";
}

std::string openai_code(const std::string& body) {
    json j = json::parse(body, nullptr, false);
    return j.is_object() && j.contains("error") ? text_of(j["error"], "code") : "";
}

std::string sora_video_id(const std::string& model, const http::Response& res) {
    json j = parse_json(model + ": create", res);
    if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) {
        throw Error(ErrorCode::Http, model + ": create answered without a video id");
    }
    return j["id"].get<std::string>();
}

JobStatus sora_status(const std::string& model, const http::Response& res) {
    json j = json::parse(res.body, nullptr, false);
    JobStatus st;
    if (j.is_discarded() || !j.is_object() || !j.contains("status")) {
        // One garbled answer must not throw away a paid job; a broken endpoint still fails.
        // ApiModel keeps polling through a few unreadable answers before it gives up.
        throw Error(ErrorCode::Http, model + ": poll: unreadable status answer (HTTP " +
                                         std::to_string(res.status) + ")");
    }
    st.provider_state = text_of(j, "status");
    if (j.contains("progress") && j["progress"].is_number()) {
        st.progress = j["progress"].get<double>() / 100;
    }
    if (st.provider_state == "in_progress") {
        st.started = true;
    } else if (st.provider_state == "completed") {
        st.started = true;
        st.state = JobStatus::State::Succeeded;
    } else if (st.provider_state == "failed") {
        st.state = JobStatus::State::Failed;
        json err = j.value("error", json::object());
        std::string code = text_of(err, "code");
        std::string msg = text_of(err, "message");
        st.error_code = is_moderation(code) ? ErrorCode::ContentFiltered : ErrorCode::Generation;
        st.error_message = http::redact(msg.empty() ? "no reason given" : msg) +
                           (code.empty() ? "" : " (" + code + ")");
    }
    return st;
}

namespace {

class SoraModel final : public ApiModel {
public:
    SoraModel(const registry::ModelInfo& info, ApiEnvironment env, const Params& params,
              std::string key, std::string forced_size, std::string seconds)
        : ApiModel(info, std::move(env), params),
          key_(std::move(key)),
          forced_size_(std::move(forced_size)),
          seconds_(std::move(seconds)) {}

protected:
    Submitted submit(const GenerationRequest& request, http::CallStats& stats) override {
        if (request.prompt.empty()) {
            throw Error(ErrorCode::InvalidQuestion,
                        std::string(info().name) + ": Sora needs a prompt");
        }
        const video::Image& img = *request.first_frame;
        Size size = forced_size_.empty()
                        ? (img.height > img.width ? Size{720, 1280} : Size{1280, 720})
                        : parse_size(forced_size_);
        std::string png = video::encode_png(letterbox(img, size.width, size.height, kLetterboxGrey));

        http::Request r = authed("POST", env().base_url + "/videos");
        // Makes the create safe to retry where the server honours it (the original sent one too).
        r.headers.push_back({"Idempotency-Key", "vmeval-" + random_hex()});
        r.form = {{"model", info().provider_model_id, "", ""},
                  {"prompt", request.prompt, "", ""},
                  {"size", size.text(), "", ""},
                  {"seconds", seconds_, "", ""},
                  {"input_reference", png, "first_frame.png", "image/png"}};
        http::Response res = send(r, stats);
        if (!res.ok()) fail("create", res);
        Submitted s;
        s.job_id = sora_video_id(info().name, res);
        s.sent = {{"model", info().provider_model_id},
                  {"size", size.text()},
                  {"seconds", seconds_},
                  {"width", size.width},
                  {"height", size.height},
                  {"duration_s", std::stod(seconds_)},
                  {"input_reference",
                   {{"format", "png"}, {"bytes", png.size()}, {"letterbox_fill", kLetterboxGrey}}}};
        return s;
    }

    JobStatus poll(const Submitted& job, http::CallStats& stats) override {
        http::Response res = send(authed("GET", env().base_url + "/videos/" + job.job_id), stats);
        if (!res.ok()) fail("poll", res);
        return sora_status(info().name, res);
    }

    http::Request download_request(const Submitted& job, const JobStatus&) override {
        http::Request r = authed("GET", env().base_url + "/videos/" + job.job_id + "/content");
        r.headers.push_back({"Accept", "application/binary"});
        return r;
    }

    void cancel(const Submitted& job) override {
        // OpenAI only deletes finished videos, so a running one answers 4xx and keeps running.
        send_best_effort(authed("DELETE", env().base_url + "/videos/" + job.job_id));
    }

    PollTiming poll_timing() const override {
        // As the original: 2 s growing by 1.25 up to 10 s. Sora Pro jobs can take many minutes.
        PollTiming t;
        t.first_s = 2;
        t.interval_s = 2.5;
        t.max_interval_s = 10;
        t.growth = 1.25;
        t.deadline_s = 3600;
        return t;
    }

private:
    http::Request authed(const std::string& method, const std::string& url) const {
        return bearer_request(method, url, key_);
    }

    [[noreturn]] void fail(const std::string& step, const http::Response& res) const {
        std::string detail = http::redact(openai_message(res.body));
        if (res.status >= 400 && says_shut_down(step, res)) {
            throw Error(ErrorCode::Http,
                        "OpenAI has shut down the Sora Videos API (announced for 2026-09-24): " +
                            std::string(info().name) + " can no longer generate videos (" + step +
                            " answered HTTP " + std::to_string(res.status) +
                            (detail.empty() ? "" : ": " + detail) + ")");
        }
        if (res.status == 400 && step == "create" && is_moderation(openai_code(res.body))) {
            throw Error(ErrorCode::ContentFiltered,
                        std::string(info().name) + ": OpenAI refused the request: " + detail);
        }
        fail_from_response(step, res, detail);
    }

    /// Counts consecutive unreadable status answers of a job; returns the count.
    static Size parse_size(const std::string& text) {
        Size s;
        std::sscanf(text.c_str(), "%dx%d", &s.width, &s.height);
        return s;
    }

    static std::string random_hex() {
        std::mt19937_64 rng{std::random_device{}()};
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
        return buf;
    }

    std::string key_;
    std::string forced_size_;  ///< from --param size, else empty (chosen per image)
    std::string seconds_;
};

}  // namespace

std::unique_ptr<ModelWrapper> make_sora(const registry::ModelInfo& info, const Params& params) {
    params.expect_only(with_common_params({"size", "seconds"}), info.name);
    const std::string model = info.provider_model_id;

    std::string size = params.get_string("size", "");
    if (!size.empty()) {
        std::string allowed;
        bool ok = false;
        for (const Size& s : sizes_for(model)) {
            allowed += (allowed.empty() ? "" : ", ") + s.text();
            ok = ok || s.text() == size;
        }
        if (!ok) {
            throw Error(ErrorCode::Usage, "--param size=" + size + ": " + info.name + " (" + model +
                                              ") takes one of " + allowed);
        }
    }
    int fallback = static_cast<int>(info.defaults.duration_s + 0.5);
    if (fallback != 4 && fallback != 8 && fallback != 12) fallback = 8;
    std::string seconds = params.get_string("seconds", std::to_string(fallback));
    if (seconds != "4" && seconds != "8" && seconds != "12") {
        throw Error(ErrorCode::Usage, "--param seconds=" + seconds + ": Sora takes 4, 8 or 12");
    }

    std::string key = require_secret("OPENAI_API_KEY", info.name);
    ApiEnvironment env =
        read_environment("VMEVAL_OPENAI_BASE_URL", kDefaultBase, mock::kSoraPrefix);
    return std::make_unique<SoraModel>(info, std::move(env), params, std::move(key), size, seconds);
}

}  // namespace vmeval::api
