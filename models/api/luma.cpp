// Luma Dream Machine (ray-2, ray-flash-2).
//
// Endpoints (base https://api.lumalabs.ai/dream-machine/v1, `Authorization: Bearer $LUMA_API_KEY`):
//   POST   /generations/video  JSON {model, prompt, aspect_ratio, duration "5s"|"9s", resolution,
//                              loop, keyframes.frame0 {type "image", url}} -> 201 Generation
//   GET    /generations/{id}   state queued -> dreaming -> completed (assets.video, a URL that
//                              needs no auth) | failed (failure_reason, e.g. "400: failed to
//                              moderate image")
//   DELETE /generations/{id}   204: the only way to stop a job
// Errors are {"detail": "..."} (FastAPI: a list of {loc, msg} on 422).
//
// Luma takes keyframes only by URL, so before each job the first frame goes to a public place:
// an S3-compatible bucket (presigned GET) or a folder the user's web server publishes (see
// s3_upload.hpp), and it is deleted there when the job ends, however it ends.
// Parameters: duration=5|9, resolution=540p|720p|1080p|4k, aspect_ratio=16:9|1:1|9:16|4:3|3:4|
// 21:9|9:21|auto (auto: the ratio nearest the image's), loop=true|false. Defaults follow the
// catalog row (1280x720, 5 s -> 16:9, 720p, "5s").

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>

#include "models/api/api_model.hpp"
#include "models/api/providers.hpp"
#include "models/api/response_parsers.hpp"
#include "models/api/s3_upload.hpp"
#include "src/mock/prefixes.hpp"

namespace vmeval::api {

namespace {

using json = nlohmann::json;

constexpr const char* kDefaultBase = "https://api.lumalabs.ai/dream-machine/v1";
constexpr const char* kRatios[] = {"1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"};
constexpr const char* kResolutions[] = {"540p", "720p", "1080p", "4k"};
// Luma's largest output (4k): a bigger keyframe would only cost upload time.
constexpr int kMaxKeyframeSide = 3840;
// Consecutive unreadable status answers we forgive.

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

double ratio_value(const std::string& ratio) {
    size_t colon = ratio.find(':');
    return std::stod(ratio.substr(0, colon)) / std::stod(ratio.substr(colon + 1));
}

std::string nearest_ratio(int width, int height) {
    const double r = std::log(static_cast<double>(width) / height);
    std::string best = kRatios[0];
    for (const char* c : kRatios) {
        if (std::abs(std::log(ratio_value(c)) - r) < std::abs(std::log(ratio_value(best)) - r)) {
            best = c;
        }
    }
    return best;
}

bool is_moderation(const std::string& reason);

}  // namespace

std::string luma_message(const std::string& body) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("detail")) return "";
    const json& d = j["detail"];
    if (d.is_string()) return d.get<std::string>();
    if (!d.is_array()) return d.dump();
    std::string out;
    for (const auto& e : d) {
        std::string item;
        if (!e.is_object()) {
            item = e.dump();
        } else if (e.contains("msg")) {
            item = e["msg"].is_string() ? e["msg"].get<std::string>() : e["msg"].dump();
        }
        if (e.is_object() && e.contains("loc") && e["loc"].is_array()) {
            std::string loc;
            for (const auto& part : e["loc"]) {
                loc += (loc.empty() ? "" : ".") +
                       (part.is_string() ? part.get<std::string>() : part.dump());
            }
            item = loc + ": " + item;
        }
        out += (out.empty() ? "" : "; ") + item;
    }
    return out;
}

std::string luma_generation_id(const std::string& model, const http::Response& res) {
    json j = parse_json(model + ": create", res);
    if (!j.is_object() || !j.contains("id") || !j["id"].is_string() ||
        j["id"].get<std::string>().empty()) {
        throw Error(ErrorCode::Http, model + ": create answered without a generation id");
    }
    return j["id"].get<std::string>();
}

JobStatus luma_status(const std::string& model, const http::Response& res) {
    json j = json::parse(res.body, nullptr, false);
    JobStatus st;
    if (j.is_discarded() || !j.is_object() || !j.contains("state") || !j["state"].is_string()) {
        // One garbled answer must not throw away a paid job; a broken endpoint still fails.
        // ApiModel keeps polling through a few unreadable answers before it gives up.
        throw Error(ErrorCode::Http, model + ": poll: unreadable status answer (HTTP " +
                                         std::to_string(res.status) + ")");
    }
    st.provider_state = j["state"].get<std::string>();
    if (st.provider_state == "dreaming") {
        st.started = true;
    } else if (st.provider_state == "completed") {
        st.started = true;
        const json assets = j.value("assets", json());
        if (assets.is_object() && assets.value("video", json()).is_string()) {
            st.state = JobStatus::State::Succeeded;
            st.video_url = assets["video"].get<std::string>();
        } else {
            st.state = JobStatus::State::Failed;
            st.error_message = "completed without assets.video";
        }
    } else if (st.provider_state == "failed") {
        st.state = JobStatus::State::Failed;
        const json reason = j.value("failure_reason", json());
        std::string text =
            reason.is_string() ? reason.get<std::string>() : "no failure_reason given";
        st.error_code = is_moderation(text) ? ErrorCode::ContentFiltered : ErrorCode::Generation;
        if (lower(text).find("failed to moderate image") != std::string::npos) {
            text += " (Luma also says this when it cannot fetch the image URL)";
        }
        st.error_message = http::redact(text);
    }
    return st;  // queued, and states Luma may add later, keep us polling
}

namespace {

bool is_moderation(const std::string& reason) {
    std::string r = lower(reason);
    for (const char* w :
         {"moderat", "content policy", "safety", "nsfw", "inappropriate", "prohibited"}) {
        if (r.find(w) != std::string::npos) return true;
    }
    return false;
}

struct Settings {
    std::string aspect_ratio;  ///< one of kRatios, or "auto"
    std::string duration;      ///< "5s" | "9s"
    std::string resolution;
    bool loop = false;
};

/// Where the first frame is published: exactly one of the two is set.
struct ImageHost {
    std::optional<s3::Bucket> bucket;
    std::optional<s3::PublicDir> dir;
};

class LumaModel final : public ApiModel {
public:
    LumaModel(const registry::ModelInfo& info, ApiEnvironment env, const Params& params,
              std::string key, Settings settings, ImageHost host)
        : ApiModel(info, std::move(env), params),
          key_(std::move(key)),
          settings_(std::move(settings)),
          host_(std::move(host)) {}

protected:
    Submitted submit(const GenerationRequest& request, http::CallStats& stats) override {
        const video::Image& img = *request.first_frame;
        const std::string ratio = settings_.aspect_ratio == "auto"
                                      ? nearest_ratio(img.width, img.height)
                                      : settings_.aspect_ratio;
        bool letterboxed = false;
        const video::Image prepared = fit(img, ratio, letterboxed);
        const std::string png = video::encode_png(prepared);

        std::string url;
        json handle = publish(png, url, stats);
        json body = {{"model", info().provider_model_id},
                     {"prompt", request.prompt},
                     {"aspect_ratio", ratio},
                     {"duration", settings_.duration},
                     {"resolution", settings_.resolution},
                     {"loop", settings_.loop},
                     {"keyframes", {{"frame0", {{"type", "image"}, {"url", url}}}}}};
        Submitted s;
        try {
            http::Request r = authed("POST", env().base_url + "/generations/video");
            r.headers.push_back({"Content-Type", "application/json"});
            r.body = body.dump();
            http::Response res = send(r, stats);
            if (!res.ok()) fail("create", res);
            s.job_id = luma_generation_id(info().name, res);
        } catch (...) {
            // No job means no cleanup() from the base: take the image down here.
            unpublish(handle);
            throw;
        }
        s.extra = handle;
        s.sent = {{"model", info().provider_model_id},
                  {"aspect_ratio", ratio},
                  {"duration", settings_.duration},
                  {"duration_s", settings_.duration == "9s" ? 9 : 5},
                  {"resolution", settings_.resolution},
                  {"loop", settings_.loop},
                  {"image_width", prepared.width},
                  {"image_height", prepared.height},
                  {"image_bytes", png.size()},
                  {"image_letterboxed", letterboxed},
                  {"image_host", handle["kind"]},
                  // The query of a presigned URL is a credential for hours: never recorded.
                  {"image_url", url.substr(0, url.find('?'))}};
        return s;
    }

    JobStatus poll(const Submitted& job, http::CallStats& stats) override {
        http::Response res =
            send(authed("GET", env().base_url + "/generations/" + job.job_id), stats);
        if (!res.ok()) fail("poll", res);
        return luma_status(info().name, res);
    }

    http::Request download_request(const Submitted&, const JobStatus& done) override {
        http::Request r;  // a CDN URL: no Authorization, which would leak the key to another host
        r.url = done.video_url;
        return r;
    }

    void cancel(const Submitted& job) override {
        http::Request r = authed("DELETE", env().base_url + "/generations/" + job.job_id);
        r.headers.push_back({"Accept", "*/*"});
        send_best_effort(r);
    }

    void cleanup(const Submitted& job) override {
        unpublish(job.extra);
    }

    PollTiming poll_timing() const override {
        // Luma's own node polls every 3 s; jobs take 15 s to a few minutes. 30 min as the original.
        PollTiming t;
        t.first_s = 5;
        t.interval_s = 3;
        t.max_interval_s = 10;
        t.growth = 1.2;
        t.deadline_s = 1800;
        return t;
    }

private:
    http::Request authed(const std::string& method, const std::string& url) const {
        return bearer_request(method, url, key_);
    }

    [[noreturn]] void fail(const std::string& step, const http::Response& res) const {
        std::string detail = http::redact(luma_message(res.body));
        if (res.status == 400 && step == "create" && is_moderation(detail)) {
            throw Error(ErrorCode::ContentFiltered,
                        std::string(info().name) + ": Luma refused the request: " + detail);
        }
        fail_from_response(step, res, detail);
    }

    /// The image letterboxed (never scaled up) onto the requested aspect ratio, so that Luma sees
    /// all of it rather than cropping as it likes; capped at kMaxKeyframeSide.
    static video::Image fit(const video::Image& img, const std::string& ratio, bool& letterboxed) {
        const double want = ratio_value(ratio);
        const double have = static_cast<double>(img.width) / img.height;
        int w = img.width, h = img.height;
        letterboxed = std::abs(have / want - 1) > 0.01;
        if (letterboxed) {
            if (have > want) {
                h = static_cast<int>(std::lround(img.width / want));
            } else {
                w = static_cast<int>(std::lround(img.height * want));
            }
        }
        if (std::max(w, h) > kMaxKeyframeSide) {
            const double scale = static_cast<double>(kMaxKeyframeSide) / std::max(w, h);
            w = std::max(1, static_cast<int>(std::lround(w * scale)));
            h = std::max(1, static_cast<int>(std::lround(h * scale)));
        } else if (!letterboxed) {
            return img;
        }
        return letterbox(img, w, h, 0);
    }

    /// Puts the PNG where Luma can fetch it; returns what unpublish() needs and sets `url`.
    json publish(const std::string& png, std::string& url, http::CallStats& stats) {
        if (host_.dir) {
            const std::string name = "vmeval-" + s3::unique_token() + ".png";
            url = host_.dir->place(name, png);
            return {{"kind", "public_dir"}, {"name", name}};
        }
        const s3::Bucket& b = *host_.bucket;
        const std::string key = "vmeval/" + s3::unique_token() + "/first_frame.png";
        const std::time_t now = std::time(nullptr);
        http::Response res = send(s3::put_object_request(b, key, png, "image/png", now), stats);
        if (!res.ok()) {
            std::string msg = std::string(info().name) +
                              ": uploading the first frame to S3 bucket " + b.name +
                              " failed with HTTP " + std::to_string(res.status);
            std::string detail = http::redact(s3::error_text(res.body));
            if (!detail.empty()) msg += " (" + detail + ")";
            if (res.status == 401 || res.status == 403) {
                const std::string vars =
                    "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and AWS_REGION";
                throw Error(ErrorCode::Config, msg + "; check " + vars);
            }
            if (res.status == 301 || res.status == 400 || res.status == 404) {
                // NoSuchBucket, a bucket in another region (PermanentRedirect, or 400
                // AuthorizationHeaderMalformed naming the right one), an invalid name.
                throw Error(ErrorCode::Config,
                            msg + "; check AWS_S3_BUCKET, AWS_REGION and AWS_ENDPOINT_URL");
            }
            throw Error(ErrorCode::Http, msg);
        }
        url = s3::presigned_get(b, key, s3::kPresignExpiresS, now);
        return {{"kind", "s3"}, {"key", key}};
    }

    /// Best effort: a leftover is reported, never fatal (the run's result stands).
    void unpublish(const json& handle) {
        if (!handle.is_object() || !handle.contains("kind")) return;
        if (handle["kind"] == "public_dir" && host_.dir) {
            const std::string name = handle["name"].get<std::string>();
            if (!host_.dir->remove(name)) {
                spdlog::warn("{}: could not delete {} from VMEVAL_PUBLIC_IMAGE_DIR", info().name,
                             name);
            }
            return;
        }
        if (handle["kind"] != "s3" || !host_.bucket) return;
        const std::string key = handle["key"].get<std::string>();
        std::string why;
        try {
            http::Request r = s3::delete_object_request(*host_.bucket, key, std::time(nullptr));
            r.timeout_s = 30;
            http::CallStats ignored;
            // Bypasses the cancel flag: an interrupted batch must still tidy up.
            http::Response res = client().send(r, &ignored, nullptr);
            if (!res.ok() && res.status != 404) {
                why = "HTTP " + std::to_string(res.status) + " " + s3::error_text(res.body);
            }
        } catch (const std::exception& e) {
            why = e.what();
        }
        if (!why.empty()) {
            spdlog::warn("{}: could not delete s3://{}/{} ({}); delete it by hand", info().name,
                         host_.bucket->name, key, http::redact(why));
        }
    }

    std::string key_;
    Settings settings_;
    ImageHost host_;
};

std::string default_resolution(const registry::Defaults& d) {
    const int side = d.width > 0 && d.height > 0 ? std::min(d.width, d.height) : 720;
    return side <= 540 ? "540p" : side <= 720 ? "720p" : side <= 1080 ? "1080p" : "4k";
}

}  // namespace

std::unique_ptr<ModelWrapper> make_luma(const registry::ModelInfo& info, const Params& params) {
    params.expect_only(with_common_params({"duration", "resolution", "aspect_ratio", "loop"}),
                       info.name);
    const std::string name = info.name;
    Settings s;

    std::string duration = params.get_string("duration", info.defaults.duration_s > 7 ? "9" : "5");
    if (duration == "5" || duration == "5s" || duration == "9" || duration == "9s") {
        s.duration = duration.substr(0, 1) + "s";
    } else {
        throw Error(ErrorCode::Usage,
                    "--param duration=" + duration + ": Luma takes 5 or 9 (seconds)");
    }

    s.resolution = lower(params.get_string("resolution", default_resolution(info.defaults)));
    if (std::find(std::begin(kResolutions), std::end(kResolutions), s.resolution) ==
        std::end(kResolutions)) {
        throw Error(ErrorCode::Usage, "--param resolution=" + params.get_string("resolution", "") +
                                          ": Luma takes 540p, 720p, 1080p or 4k");
    }

    const registry::Defaults& d = info.defaults;
    std::string fallback_ratio =
        d.width > 0 && d.height > 0 ? nearest_ratio(d.width, d.height) : "16:9";
    s.aspect_ratio = params.get_string("aspect_ratio", fallback_ratio);
    if (s.aspect_ratio != "auto" &&
        std::find(std::begin(kRatios), std::end(kRatios), s.aspect_ratio) == std::end(kRatios)) {
        throw Error(ErrorCode::Usage,
                    "--param aspect_ratio=" + s.aspect_ratio +
                        ": Luma takes 16:9, 1:1, 9:16, 4:3, 3:4, 21:9, 9:21 or auto "
                        "(the one nearest the image's)");
    }

    std::string loop = lower(params.get_string("loop", "false"));
    if (loop != "true" && loop != "false" && loop != "1" && loop != "0") {
        throw Error(ErrorCode::Usage, "--param loop=" + loop + ": use true or false");
    }
    s.loop = loop == "true" || loop == "1";

    std::string key = require_secret("LUMA_API_KEY", name);
    // A folder the user serves is an explicit choice; AWS keys may be in the environment for
    // other tools, so they only count when no folder is configured.
    ImageHost host;
    host.dir = s3::public_dir_from_environment(name);
    if (!host.dir) host.bucket = s3::bucket_from_environment(name);
    if (!host.dir && !host.bucket) {
        const std::string how =
            "set AWS_S3_BUCKET with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (optional "
            "AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL), or VMEVAL_PUBLIC_IMAGE_DIR with "
            "VMEVAL_PUBLIC_IMAGE_BASE_URL (see env.template)";
        throw Error(ErrorCode::ModelUnavailable,
                    name +
                        " needs a public URL for each first frame (Luma fetches keyframes "
                        "only by URL): " +
                        how);
    }
    ApiEnvironment env = read_environment("VMEVAL_LUMA_BASE_URL", kDefaultBase, mock::kLumaPrefix);
    return std::make_unique<LumaModel>(info, std::move(env), params, std::move(key), std::move(s),
                                       std::move(host));
}

}  // namespace vmeval::api
