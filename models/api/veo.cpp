// Google Veo through the Gemini API (API key in the x-goog-api-key header, never in the URL).
//
//   POST {base}/models/{model}:predictLongRunning  -> {"name": "models/{model}/operations/{op}"}
//   GET  {base}/{name}                              -> {"name"} while running, then
//                                                      "done": true with "error" or "response"
//   GET  response.generateVideoResponse.generatedSamples[0].video.uri (key header, 302 followed)
//
// Lifecycle: running until done:true; done with error -> failed; done with samples -> succeeded;
// done with raiMediaFilteredCount/Reasons and no samples -> content filtered. Google offers no
// cancel for video operations, so an interrupted job runs to its end on Google's side.
// base: VMEVAL_GEMINI_BASE_URL, default https://generativelanguage.googleapis.com/v1beta.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "models/api/api_model.hpp"
#include "models/api/providers.hpp"
#include "models/api/response_parsers.hpp"
#include "src/mock/prefixes.hpp"

namespace vmeval::api {

namespace {

using json = nlohmann::json;

constexpr const char* kKeyVar = "GEMINI_API_KEY";

/// The Gemini API's rules differ per Veo generation (ai.google.dev video docs, Vertex model pages).
enum class Generation { Veo2, Veo3, Veo31 };

Generation generation_of(const std::string& model_id) {
    if (model_id.rfind("veo-2", 0) == 0) return Generation::Veo2;
    if (model_id.rfind("veo-3.0", 0) == 0) return Generation::Veo3;
    return Generation::Veo31;
}

struct Settings {
    int duration = 8;
    std::string aspect = "auto";  ///< "auto" picks 9:16 for portrait inputs, else 16:9
    std::string resolution;       ///< empty: not sent (the server's default, 720p)
    std::string negative_prompt;
};

bool one_of(const std::string& v, std::initializer_list<const char*> allowed) {
    return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return v == a; });
}

Settings read_settings(const registry::ModelInfo& info, Generation gen, const Params& params) {
    Settings s;
    const std::string name = info.name;
    auto usage = [&](const std::string& what) {
        throw Error(ErrorCode::Usage, name + ": " + what);
    };
    int fallback =
        static_cast<int>(std::lround(info.defaults.duration_s > 0 ? info.defaults.duration_s : 8));
    s.duration = params.get_int("duration", fallback, 1, 60);
    const bool offered = gen == Generation::Veo2
                             ? (s.duration >= 5 && s.duration <= 8)
                             : (s.duration == 4 || s.duration == 6 || s.duration == 8);
    if (!offered) {
        usage("--param duration=" + std::to_string(s.duration) +
              " is not offered: this model takes " +
              (gen == Generation::Veo2 ? "5, 6, 7 or 8" : "4, 6 or 8") + " seconds");
    }
    s.aspect = params.get_string("aspect_ratio", "auto");
    if (!one_of(s.aspect, {"auto", "16:9", "9:16"})) {
        usage("--param aspect_ratio=" + s.aspect +
              ": use 16:9, 9:16 or auto (9:16 for portrait images)");
    }
    s.resolution = params.get_string("resolution", "");
    if (!s.resolution.empty()) {
        if (gen == Generation::Veo2) {
            usage("Veo 2 always renders 720p and takes no --param resolution");
        }
        bool ok = gen == Generation::Veo3 ? one_of(s.resolution, {"720p", "1080p"})
                                          : one_of(s.resolution, {"720p", "1080p", "4k"});
        if (!ok) {
            usage("--param resolution=" + s.resolution + ": use " +
                  (gen == Generation::Veo3 ? "720p or 1080p" : "720p, 1080p or 4k"));
        }
        if (gen == Generation::Veo31 && s.resolution != "720p" && s.duration != 8) {
            usage("Veo 3.1 renders " + s.resolution +
                  " only for 8 s clips: add --param duration=8");
        }
        if (gen == Generation::Veo3 && s.resolution == "1080p" && s.aspect == "9:16") {
            usage("Veo 3 renders 1080p only in 16:9");
        }
    }
    s.negative_prompt = params.get_string("negative_prompt", "");
    return s;
}

/// Output size the request asks for, for the record.
std::pair<int, int> output_size(const std::string& resolution, bool portrait) {
    int w = 1280, h = 720;
    if (resolution == "1080p") w = 1920, h = 1080;
    if (resolution == "4k") w = 3840, h = 2160;
    return portrait ? std::make_pair(h, w) : std::make_pair(w, h);
}

/// Pads with white onto the smallest canvas of exactly 16:9 (or 9:16) that holds the image, as the
/// original did, after scaling the image down to 1280x720 (720x1280) so that the inline payload
/// stays far below the API's request size limit; Veo renders 720p or more anyway.
video::Image pad_to_ratio(const video::Image& image, bool portrait) {
    const int unit_w = portrait ? 9 : 16, unit_h = portrait ? 16 : 9;
    const int box_w = unit_w * 80, box_h = unit_h * 80;
    double scale = std::min(
        {1.0, static_cast<double>(box_w) / image.width, static_cast<double>(box_h) / image.height});
    double w = image.width * scale, h = image.height * scale;
    // The epsilon keeps an exact 16:9 input at its own size despite rounding.
    int k = static_cast<int>(std::ceil(std::max(w / unit_w, h / unit_h) - 1e-6));
    k = std::clamp(k, 1, 80);
    return letterbox(image, unit_w * k, unit_h * k, 255);
}

std::string origin(const std::string& url) {
    auto scheme = url.find("://");
    if (scheme == std::string::npos) return "";
    auto slash = url.find('/', scheme + 3);
    return url.substr(0, slash);
}

/// Content-policy wording in an operation error (Google answers some person/safety refusals as
/// an error instead of raiMediaFiltered*): matched loosely since Google documents no code for it.
bool looks_like_safety(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    for (const char* p : {"safety", "usage guidelines", "responsible ai", "violate"}) {
        if (text.find(p) != std::string::npos) return true;
    }
    return false;
}

/// The string at `key`, or "" when absent or not a string.
std::string text_at(const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

/// The integer at `key`, or 0 when absent, not an integer or out of int's range (a float would
/// convert with undefined behaviour).
int int_at(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_number_integer()) return 0;
    if (it->is_number_unsigned()) {
        auto v = it->get<std::uint64_t>();
        return v > static_cast<std::uint64_t>(INT32_MAX) ? 0 : static_cast<int>(v);
    }
    auto v = it->get<std::int64_t>();
    return v < INT32_MIN || v > INT32_MAX ? 0 : static_cast<int>(v);
}

/// One operation document in vmeval's words.
JobStatus read_operation(const json& j) {
    JobStatus st;
    if (!j.value("done", false)) {
        st.provider_state = "running";
        return st;
    }
    st.provider_state = "done";
    st.state = JobStatus::State::Failed;
    if (j.contains("error") && j["error"].is_object()) {
        const json& e = j["error"];
        std::string msg = text_at(e, "message");
    if (msg.empty()) msg = "no message";
        st.error_message =
            http::redact(msg + " (code " + std::to_string(int_at(e, "code")) + ")");
        st.error_code =
            looks_like_safety(msg) ? ErrorCode::ContentFiltered : ErrorCode::Generation;
        st.provider_state = "error";
        return st;
    }
    const json gvr =
        j.value("response", json::object()).value("generateVideoResponse", json::object());
    const json samples = gvr.value("generatedSamples", json::array());
    if (samples.is_array() && !samples.empty()) {
        const json video = samples[0].value("video", json::object());
        std::string uri = video.value("uri", "");
        if (uri.empty() && video.contains("encodedVideo")) {
            st.error_message =
                "the API sent the video inline (encodedVideo), which vmeval does not read";
            return st;
        }
        if (uri.rfind("http://", 0) != 0 && uri.rfind("https://", 0) != 0) {
            st.error_message = "the finished operation names no video URI";
            return st;
        }
        st.state = JobStatus::State::Succeeded;
        st.video_url = uri;
        return st;
    }
    int filtered = int_at(gvr, "raiMediaFilteredCount");
    const json reasons = gvr.value("raiMediaFilteredReasons", json::array());
    if (filtered > 0 || (reasons.is_array() && !reasons.empty())) {
        std::string why;
        for (const auto& r : reasons) {
            if (r.is_string()) why += (why.empty() ? "" : "; ") + r.get<std::string>();
        }
        st.provider_state = "filtered";
        st.error_code = ErrorCode::ContentFiltered;
        st.error_message =
            http::redact("Google's safety filters withheld " + std::to_string(filtered) +
                         " video(s)" + (why.empty() ? "" : ": " + why));
        return st;
    }
    st.error_message = "the operation finished without a video or a reason";
    return st;
}

}  // namespace

VeoError veo_error(const std::string& body) {
    json j = json::parse(body, nullptr, false);
    VeoError out;
    std::string message, status;
    if (j.is_object() && j.contains("error") && j["error"].is_object()) {
        const json& e = j["error"];
        message = text_at(e, "message");
        status = text_at(e, "status");
        auto details = e.find("details");
        if (details != e.end() && details->is_array()) {
            for (const auto& d : *details) {
                if (d.is_object() && text_at(d, "reason") == "API_KEY_INVALID") out.bad_key = true;
            }
        }
        if (message.find("API key not valid") != std::string::npos) out.bad_key = true;
    }
    out.detail = message.empty() ? "" : (status.empty() ? message : status + ": " + message);
    return out;
}

std::string veo_operation_name(const std::string& model, const http::Response& res) {
    json j = parse_json(model + ": create", res);
    std::string name = j.is_object() ? text_at(j, "name") : "";
    if (name.empty() || name.find("..") != std::string::npos) {
        throw Error(ErrorCode::Http, model + ": create answered without an operation name: " +
                                         http::redact(res.body.substr(0, 300)));
    }
    return name;
}

JobStatus veo_status(const std::string& model, const http::Response& res) {
    json j = parse_json(model + ": poll", res);
    try {
        if (!j.is_object()) {
            throw Error(ErrorCode::Http, model + ": poll: the answer is not an object");
        }
        return read_operation(j);
    } catch (const json::exception& e) {
        throw Error(ErrorCode::Http, model + ": poll: unexpected operation shape (" + e.what() +
                                         "): " + http::redact(res.body.substr(0, 300)));
    }
}

namespace {

class VeoModel : public ApiModel {
public:
    VeoModel(const registry::ModelInfo& info, ApiEnvironment env, const Params& params,
             std::string key, Settings settings)
        : ApiModel(info, std::move(env), params),
          key_(std::move(key)),
          settings_(std::move(settings)),
          generation_(generation_of(info.provider_model_id)) {}

protected:
    Submitted submit(const GenerationRequest& request, http::CallStats& stats) override {
        const video::Image& in = *request.first_frame;
        bool portrait =
            settings_.aspect == "auto" ? in.height > in.width : settings_.aspect == "9:16";
        if (generation_ == Generation::Veo3 && settings_.resolution == "1080p" && portrait) {
            throw Error(
                ErrorCode::InvalidQuestion,
                std::string(info().name) + ": the first frame is portrait (" +
                    std::to_string(in.width) + "x" + std::to_string(in.height) +
                    ") and Veo 3 renders 1080p only in 16:9: pass --param aspect_ratio=16:9 "
                    "or --param resolution=720p");
        }
        video::Image padded = pad_to_ratio(in, portrait);
        const std::string ratio = portrait ? "9:16" : "16:9";

        json parameters = {{"aspectRatio", ratio}, {"durationSeconds", settings_.duration}};
        if (!settings_.negative_prompt.empty()) {
            parameters["negativePrompt"] = settings_.negative_prompt;
        }
        if (!settings_.resolution.empty()) parameters["resolution"] = settings_.resolution;
        json body = {
            {"instances", json::array({{{"prompt", request.prompt},
                                        {"image",
                                         {{"bytesBase64Encoded", base64(video::encode_png(padded))},
                                          {"mimeType", "image/png"}}}}})},
            {"parameters", parameters}};

        http::Request r = authed(
            "POST", env().base_url + "/models/" + info().provider_model_id + ":predictLongRunning");
        r.headers.push_back({"Content-Type", "application/json"});
        r.body = body.dump();
        http::Response resp = send(r, stats);
        if (!resp.ok()) fail("create", resp);
        std::string name = veo_operation_name(info().name, resp);

        Submitted job;
        job.job_id = name;
        auto [out_w, out_h] = output_size(settings_.resolution, portrait);
        job.sent = {{"model", info().provider_model_id},
                    {"aspect_ratio", ratio},
                    {"duration_s", settings_.duration},
                    {"width", out_w},
                    {"height", out_h},
                    {"image_width", padded.width},
                    {"image_height", padded.height},
                    {"image_format", "png"},
                    {"image_padding", "white"}};
        if (!settings_.resolution.empty()) job.sent["resolution"] = settings_.resolution;
        if (!settings_.negative_prompt.empty()) {
            job.sent["negative_prompt"] = settings_.negative_prompt;
        }
        return job;
    }

    JobStatus poll(const Submitted& job, http::CallStats& stats) override {
        http::Response resp = send(authed("GET", env().base_url + "/" + job.job_id), stats);
        if (!resp.ok()) fail("poll", resp);
        return veo_status(info().name, resp);
    }


    http::Request download_request(const Submitted&, const JobStatus& done) override {
        http::Request r;
        r.method = "GET";
        r.url = done.video_url;
        // The file URI needs the key; never hand the key to a host other than the API's own.
        if (origin(done.video_url) == origin(env().base_url)) {
            r.headers.push_back({"x-goog-api-key", key_});
        }
        r.follow_redirects = true;
        return r;
    }

    PollTiming poll_timing() const override {
        PollTiming t;
        t.first_s = t.interval_s = t.max_interval_s = 10;  // Google's samples poll every 10 s
        return t;
    }

private:
    http::Request authed(const char* method, const std::string& url) const {
        http::Request r;
        r.method = method;
        r.url = url;
        r.headers.push_back({"x-goog-api-key", key_});
        return r;
    }

    /// Gemini reports a wrong key as 400 INVALID_ARGUMENT with reason API_KEY_INVALID: that is a
    /// configuration problem, not a bad request.
    [[noreturn]] void fail(const std::string& what, const http::Response& resp) const {
        const VeoError err = veo_error(resp.body);
        const std::string& detail = err.detail;
        if (err.bad_key) {
            throw Error(ErrorCode::Config, std::string(info().name) + ": " + what +
                                               " failed with HTTP " + std::to_string(resp.status) +
                                               ": " + http::redact(detail) + " (check " + kKeyVar +
                                               ")");
        }
        fail_from_response(what, resp, detail);
    }

    std::string key_;
    Settings settings_;
    Generation generation_;
};

}  // namespace

std::unique_ptr<ModelWrapper> make_veo(const registry::ModelInfo& info, const Params& params) {
    params.expect_only(
        with_common_params({"duration", "aspect_ratio", "negative_prompt", "resolution"}),
        info.name);
    Settings settings = read_settings(info, generation_of(info.provider_model_id), params);
    std::string key = require_secret(kKeyVar, info.name);
    ApiEnvironment env =
        read_environment("VMEVAL_GEMINI_BASE_URL",
                         "https://generativelanguage.googleapis.com/v1beta", mock::kVeoPrefix);
    return std::make_unique<VeoModel>(info, std::move(env), params, std::move(key),
                                      std::move(settings));
}

}  // namespace vmeval::api
