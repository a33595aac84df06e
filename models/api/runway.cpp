// Runway (gen4_turbo, gen3a_turbo) through Runway's developer API.
//
// Endpoints (base https://api.dev.runwayml.com; every request carries
// `Authorization: Bearer $RUNWAYML_API_SECRET` and `X-Runway-Version: 2024-11-06`):
//   POST   /v1/image_to_video  JSON {model, promptImage (data URI, <= 5 MB encoded), promptText
//                              (<= 1000 UTF-16 units), ratio ("1280:720"...), duration, seed}
//                              -> {id}
//   GET    /v1/tasks/{id}      status PENDING | THROTTLED -> RUNNING (progress 0..1) -> SUCCEEDED
//                              (output: [signed URL]) | FAILED (failure, failureCode) | CANCELLED
//   GET    output[0]           the MP4, no auth
//   DELETE /v1/tasks/{id}      cancels a pending or running task (deletes a finished one)
// Parameters: ratio=W:H (per model; default: the closest to the input image, as the original),
// duration=5|10 (default: the catalog's 5). The seed is --seed.
//
// runway-gen4-aleph is refused by the factory: gen4_aleph is a video-to-video model that
// image_to_video rejects, its video_to_video endpoint takes an input video documented as an HTTPS
// URL only (we have no video to give, and no place to host one), and Runway replaced it with
// aleph2 in June 2026 (it left the official SDK then). Sending it would only buy an HTTP 400.

#include <stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>

#include "models/api/api_model.hpp"
#include "models/api/providers.hpp"
#include "models/api/response_parsers.hpp"
#include "src/mock/prefixes.hpp"

namespace vmeval::api {

namespace {

using json = nlohmann::json;

constexpr const char* kDefaultBase = "https://api.dev.runwayml.com";
constexpr const char* kApiVersion = "2024-11-06";
constexpr std::uint8_t kPadWhite = 255;             // the original padded with white
constexpr size_t kMaxDataUri = 5ull * 1024 * 1024;  // Runway's limit on the encoded URI
constexpr size_t kMaxPromptUnits = 1000;            // UTF-16 code units
constexpr std::uint64_t kSeedModulus = 4294967295ull;

struct ModelRules {
    std::vector<std::string> ratios;  ///< in the original's order: the first wins ties
    std::vector<int> durations;
    bool prompt_required = false;
};

const ModelRules* rules_for(const std::string& model) {
    static const ModelRules gen4{
        {"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"}, {5, 10}, false};
    static const ModelRules gen3a{{"1280:768", "768:1280"}, {5, 10}, true};
    if (model == "gen4_turbo") return &gen4;
    if (model == "gen3a_turbo") return &gen3a;
    return nullptr;
}

std::pair<int, int> ratio_pixels(const std::string& ratio) {
    int w = 0, h = 0;
    std::sscanf(ratio.c_str(), "%d:%d", &w, &h);
    return {w, h};
}

/// The original's choice: a square entry for near-square images (0.9..1.1), else the ratio
/// closest to the image's, the first one winning ties.
std::string closest_ratio(const ModelRules& rules, int width, int height) {
    double r = static_cast<double>(width) / height;
    if (r >= 0.9 && r <= 1.1) {
        for (const auto& c : rules.ratios) {
            auto [w, h] = ratio_pixels(c);
            if (w == h) return c;
        }
    }
    std::string best = rules.ratios.front();
    double best_d = 1e9;
    for (const auto& c : rules.ratios) {
        auto [w, h] = ratio_pixels(c);
        double d = std::fabs(r - static_cast<double>(w) / h);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}

/// Length of a UTF-8 string in UTF-16 code units, as Runway measures promptText.
size_t utf16_units(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) {
        if ((c & 0xC0) == 0x80) continue;  // continuation byte
        n += (c >= 0xF0) ? 2 : 1;          // 4-byte sequences become surrogate pairs
    }
    return n;
}

std::string encode_jpeg(const video::Image& image, int quality) {
    std::string out;
    auto sink = [](void* ctx, void* data, int size) {
        static_cast<std::string*>(ctx)->append(static_cast<const char*>(data),
                                               static_cast<size_t>(size));
    };
    if (stbi_write_jpg_to_func(sink, &out, image.width, image.height, 3, image.rgb.data(),
                               quality) == 0) {
        throw Error(ErrorCode::Internal, "cannot encode a JPEG in memory");
    }
    return out;
}

/// The string at `key` of an object, or "" when absent or not a string.
std::string text_of(const json& object, const char* key) {
    if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
    return object[key].get<std::string>();
}

}  // namespace

std::string runway_message(const std::string& body) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return "";
    std::string msg = text_of(j, "error");
    if (msg.empty() && j.contains("error")) msg = text_of(j["error"], "message");
    if (j.contains("issues") && j["issues"].is_array() && !j["issues"].empty()) {
        std::string issue = text_of(j["issues"][0], "message");
        if (!issue.empty()) msg += (msg.empty() ? "" : ": ") + issue;
    }
    return msg;
}

std::string runway_task_id(const std::string& model, const http::Response& res) {
    json j = parse_json(model + ": create", res);
    if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) {
        throw Error(ErrorCode::Http, model + ": create answered without a task id");
    }
    return j["id"].get<std::string>();
}

JobStatus runway_status(const std::string& model, const http::Response& res) {
    json j = json::parse(res.body, nullptr, false);
    JobStatus st;
    if (j.is_discarded() || !j.is_object() || !j.contains("status") ||
        !j["status"].is_string()) {
        // One garbled answer must not throw away a paid task; a broken endpoint still fails.
        // ApiModel keeps polling through a few unreadable answers before it gives up.
        throw Error(ErrorCode::Http, model + ": poll: unreadable status answer (HTTP " +
                                         std::to_string(res.status) + ")");
    }
    st.provider_state = j["status"].get<std::string>();
    if (j.contains("progress") && j["progress"].is_number()) {
        st.progress = j["progress"].get<double>();
    }
    const std::string& s = st.provider_state;
    if (s == "RUNNING") {
        st.started = true;
    } else if (s == "SUCCEEDED") {
        st.started = true;
        st.state = JobStatus::State::Succeeded;
        const json out = j.value("output", json());
        // The SDK says a list; the original also took a bare string.
        if (out.is_array() && !out.empty() && out[0].is_string()) {
            st.video_url = out[0].get<std::string>();
        }
        if (out.is_string()) st.video_url = out.get<std::string>();
        if (st.video_url.empty()) {
            st.state = JobStatus::State::Failed;
            st.error_message = "the task succeeded without an output URL";
        }
    } else if (s == "FAILED") {
        st.state = JobStatus::State::Failed;
        std::string code = text_of(j, "failureCode");
        std::string why = text_of(j, "failure");
        bool safety = code.rfind("SAFETY", 0) == 0 || code.find(".SAFETY") != std::string::npos;
        st.error_code = safety ? ErrorCode::ContentFiltered : ErrorCode::Generation;
        st.error_message = http::redact(why.empty() ? "no reason given" : why) +
                           (code.empty() ? "" : " (" + code + ")");
    } else if (s == "CANCELLED") {
        st.state = JobStatus::State::Failed;
        st.error_message = "the task was cancelled or deleted on Runway's side (CANCELLED)";
    }
    return st;
}

namespace {

class RunwayModel final : public ApiModel {
public:
    RunwayModel(const registry::ModelInfo& info, ApiEnvironment env, const Params& params,
                std::string key, const ModelRules& rules, std::string forced_ratio, int duration)
        : ApiModel(info, std::move(env), params),
          key_(std::move(key)),
          rules_(rules),
          forced_ratio_(std::move(forced_ratio)),
          duration_(duration) {}

protected:
    Submitted submit(const GenerationRequest& request, http::CallStats& stats) override {
        const std::string name = info().name;
        size_t units = utf16_units(request.prompt);
        if (units > kMaxPromptUnits) {
            throw Error(ErrorCode::InvalidQuestion,
                        name + ": the prompt is " + std::to_string(units) +
                            " UTF-16 units long; Runway takes at most 1000");
        }
        if (rules_.prompt_required && request.prompt.empty()) {
            throw Error(ErrorCode::InvalidQuestion,
                        name + ": Runway requires a prompt for " + info().provider_model_id);
        }
        const video::Image& img = *request.first_frame;
        std::string ratio =
            forced_ratio_.empty() ? closest_ratio(rules_, img.width, img.height) : forced_ratio_;
        auto [w, h] = ratio_pixels(ratio);
        video::Image canvas = letterbox(img, w, h, kPadWhite);

        // PNG keeps thin lines exact. JPEG is the fallback should a URI pass Runway's limit; with
        // today's ratios even pure noise at 1584x672 stays near 4.3 MB as PNG.
        std::string format = "png";
        std::string bytes = video::encode_png(canvas);
        std::string uri = "data:image/png;base64," + base64(bytes);
        for (int quality : {92, 85, 75, 60}) {
            if (uri.size() <= kMaxDataUri) break;
            format = "jpeg";
            bytes = encode_jpeg(canvas, quality);
            uri = "data:image/jpeg;base64," + base64(bytes);
        }
        if (uri.size() > kMaxDataUri) {
            throw Error(ErrorCode::InvalidQuestion,
                        name + ": the first frame does not fit Runway's 5 MB data URI limit");
        }

        const std::uint64_t seed = request.seed % kSeedModulus;
        json body = {{"model", info().provider_model_id},
                     {"promptImage", std::move(uri)},
                     {"ratio", ratio},
                     {"duration", duration_},
                     {"seed", seed}};
        if (!request.prompt.empty()) body["promptText"] = request.prompt;
        http::Request r = authed("POST", env().base_url + "/v1/image_to_video");
        r.headers.push_back({"Content-Type", "application/json"});
        r.body = body.dump();
        http::Response res = send(r, stats);
        if (!res.ok()) fail_from_response("create", res, runway_message(res.body));
        Submitted s;
        s.job_id = runway_task_id(name, res);
        s.sent = {
            {"model", info().provider_model_id},
            {"ratio", ratio},
            {"duration", duration_},
            {"duration_s", duration_},
            {"seed", seed},
            {"width", w},
            {"height", h},
            {"prompt_image", {{"format", format}, {"bytes", bytes.size()}, {"pad", "white"}}}};
        return s;
    }

    JobStatus poll(const Submitted& job, http::CallStats& stats) override {
        http::Response res = send(authed("GET", env().base_url + "/v1/tasks/" + job.job_id), stats);
        if (!res.ok()) fail_from_response("poll", res, runway_message(res.body));
        return runway_status(info().name, res);
    }

    http::Request download_request(const Submitted&, const JobStatus& done) override {
        http::Request r;  // a signed URL: sending our key to the CDN would only leak it
        r.url = done.video_url;
        return r;
    }

    void cancel(const Submitted& job) override {
        http::Request r = authed("DELETE", env().base_url + "/v1/tasks/" + job.job_id);
        r.headers.push_back({"Accept", "*/*"});
        send_best_effort(r);
    }

    PollTiming poll_timing() const override {
        // Runway: "do not expect updates more often than every five seconds"; its SDK waits ~6 s.
        PollTiming t;
        t.first_s = 6;
        t.interval_s = 6;
        t.max_interval_s = 6;
        t.growth = 1.0;
        return t;
    }

private:
    http::Request authed(const std::string& method, const std::string& url) const {
        http::Request r = bearer_request(method, url, key_);
        r.headers.push_back({"X-Runway-Version", kApiVersion});
        return r;
    }

    /// Counts consecutive unreadable status answers of a task; returns the count.
    std::string key_;
    const ModelRules& rules_;
    std::string forced_ratio_;  ///< from --param ratio, else empty (chosen per image)
    int duration_;
};

}  // namespace

std::unique_ptr<ModelWrapper> make_runway(const registry::ModelInfo& info, const Params& params) {
    const std::string model = info.provider_model_id;
    if (model == "gen4_aleph") {
        throw Error(
            ErrorCode::ModelUnavailable,
            std::string(info.name) +
                " cannot run: gen4_aleph is a video-to-video model. Runway's image_to_video "
                "endpoint rejects it, its video_to_video endpoint needs an input video at an "
                "HTTPS URL, and Runway replaced it with aleph2 in June 2026. Use "
                "runway-gen4-turbo for image-to-video.");
    }
    const ModelRules* rules = rules_for(model);
    if (rules == nullptr) {
        throw Error(ErrorCode::ModelUnavailable, std::string(info.name) +
                                                     ": vmeval does not know Runway's "
                                                     "rules for model " +
                                                     model);
    }
    params.expect_only(with_common_params({"ratio", "duration"}), info.name);

    std::string ratio = params.get_string("ratio", "");
    std::string allowed;
    for (const auto& r : rules->ratios) allowed += (allowed.empty() ? "" : ", ") + r;
    if (!ratio.empty() &&
        std::find(rules->ratios.begin(), rules->ratios.end(), ratio) == rules->ratios.end()) {
        throw Error(ErrorCode::Usage, "--param ratio=" + ratio + ": " + info.name + " (" + model +
                                          ") takes one of " + allowed);
    }
    int fallback = static_cast<int>(info.defaults.duration_s + 0.5);
    if (std::find(rules->durations.begin(), rules->durations.end(), fallback) ==
        rules->durations.end()) {
        fallback = rules->durations.front();
    }
    int duration = params.get_int("duration", fallback, 1, 60);
    if (std::find(rules->durations.begin(), rules->durations.end(), duration) ==
        rules->durations.end()) {
        throw Error(ErrorCode::Usage, "--param duration=" + std::to_string(duration) + ": " +
                                          info.name + " takes 5 or 10 (seconds)");
    }

    std::string key = require_secret("RUNWAYML_API_SECRET", info.name);
    ApiEnvironment env =
        read_environment("VMEVAL_RUNWAY_BASE_URL", kDefaultBase, mock::kRunwayPrefix);
    return std::make_unique<RunwayModel>(info, std::move(env), params, std::move(key), *rules,
                                         ratio, duration);
}

}  // namespace vmeval::api
