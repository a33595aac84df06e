// Luma Dream Machine as the mock serves it, under kLumaPrefix (`Authorization: Bearer <key>`):
//   POST   /generations/video, /generations (legacy)  validates model, keyframes.frame0
//          {type "image", url}, aspect_ratio, duration, resolution, loop -> 201 Generation queued
//   GET    /generations/{id}  queued -> dreaming -> completed (assets.video: /files/<id>.mp4,
//          no auth) | failed (failure_reason)
//   DELETE /generations/{id}  204; the generation is gone (later requests: 404)
//   GET    /ping              {"message": "pong"}
// Errors are {"detail": "..."}; a bad key gets 401 {"detail": "Invalid API key is provided"}.
// Like Luma, the mock fetches the keyframe at create time, but it never goes on the network: it
// reads URLs that point at its own S3 store (/s3/<bucket>/<key>, checked as S3 checks a
// presigned GET) straight from MockContext, and answers 400 for any other URL. Faults: create-*
// and poll-* HTTP faults; "moderation" -> failed "400: failed to moderate image"; "job-failed"
// -> failed with a generic reason; "stuck" -> dreaming forever.

#include <httplib.h>

#include <ctime>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "mock/mock_server.hpp"
#include "models/api/s3_upload.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/time.hpp"

namespace vmeval::mock {

namespace {

using json = nlohmann::json;

const std::set<std::string> kModels = {"ray-1-6", "ray-2", "ray-flash-2"};
const std::set<std::string> kRatios = {"1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"};
const std::set<std::string> kDurations = {"5s", "9s"};
const std::set<std::string> kResolutions = {"540p", "720p", "1080p", "4k"};

std::string detail(int, const std::string& message) { return json{{"detail", message}}.dump(); }

void reply(httplib::Response& res, int status, const std::string& message) {
    res.status = status;
    res.set_content(detail(status, message), "application/json");
}

std::string uuid4() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const unsigned long long a = rng(), b = rng();
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-%04llx-%012llx", a >> 32,
                  (a >> 16) & 0xffff, a & 0xfff, 0x8000 | ((b >> 48) & 0x3fff),
                  b & 0xffffffffffffULL);
    return buf;
}

bool authed(MockContext& ctx, const httplib::Request& req, httplib::Response& res) {
    const std::string h = req.get_header_value("Authorization");
    const std::string bearer = "Bearer ";
    if (h.rfind(bearer, 0) == 0 && ctx.key_ok(h.substr(bearer.size()))) return true;
    reply(res, 401, "Invalid API key is provided");
    return false;
}

/// The request body's problem as Luma would word it, or "".
std::string invalid(const json& b) {
    if (!b.is_object()) return "request body must be a JSON object";
    if (!b.contains("model") || !b["model"].is_string() ||
        !kModels.count(b["model"].get<std::string>())) {
        return "model: must be one of ray-1-6, ray-2, ray-flash-2";
    }
    if (b.contains("prompt") && !b["prompt"].is_string() && !b["prompt"].is_null()) {
        return "prompt: must be a string";
    }
    auto check = [&](const char* field, const std::set<std::string>& allowed) {
        if (!b.contains(field) || b[field].is_null()) return true;
        return b[field].is_string() && allowed.count(b[field].get<std::string>()) > 0;
    };
    if (!check("aspect_ratio", kRatios)) {
        return "aspect_ratio: must be one of 1:1, 16:9, 9:16, 4:3, 3:4, 21:9, 9:21";
    }
    if (!check("duration", kDurations)) return "duration: must be one of 5s, 9s";
    if (!check("resolution", kResolutions)) {
        return "resolution: must be one of 540p, 720p, 1080p, 4k";
    }
    if (b.contains("loop") && !b["loop"].is_boolean()) return "loop: must be a boolean";
    const json k = b.value("keyframes", json());
    if (!k.is_object() || !k.contains("frame0") || !k["frame0"].is_object()) {
        return "keyframes.frame0: required (this mock serves image-to-video only)";
    }
    const json& f = k["frame0"];
    if (f.value("type", std::string()) != "image") {
        return "keyframes.frame0.type: must be \"image\"";
    }
    if (!f.contains("url") || !f["url"].is_string() || f["url"].get<std::string>().empty()) {
        return "keyframes.frame0.url: required";
    }
    return "";
}

/// Reads the keyframe as Luma's fetch would get it; "" and `bytes` set, or why it failed.
std::string fetch(MockContext& ctx, const httplib::Request& req, const std::string& url,
                  std::string& bytes) {
    api::s3::UrlParts u;
    try {
        u = api::s3::split_url(url);
    } catch (const Error&) {
        return "keyframes.frame0.url: not an http(s) URL";
    }
    const std::string own = req.get_header_value("Host");
    const std::string prefix = std::string(kS3Prefix) + "/";
    if (u.host != own || u.path.rfind(prefix, 0) != 0) {
        // The URL is echoed without its query, which may be a presigned credential.
        return "keyframes.frame0.url " + u.scheme + "://" + u.host + u.path +
               ": vmeval mock-api cannot fetch external URLs; it reads only its own S3 store (" +
               std::string(kS3Prefix) + "/<bucket>/<key> on this server)";
    }
    api::s3::Verdict v =
        api::s3::check_request("GET", u.path, u.query, {{"host", u.host}}, "",
                               api::s3::server_keys_from_environment(), std::time(nullptr));
    if (!v.ok()) {
        return "keyframes.frame0.url: fetching the image failed (403 " + v.code + ": " + v.message +
               ")";
    }
    if (!ctx.get_object(api::s3::percent_decode(u.path.substr(prefix.size())), bytes)) {
        return "keyframes.frame0.url: fetching the image failed (404 NoSuchKey)";
    }
    if (bytes.rfind("\x89PNG", 0) != 0 && bytes.rfind("\xFF\xD8\xFF", 0) != 0) {
        return "keyframes.frame0.url: not a PNG or JPEG image";
    }
    return "";
}

json generation(const Job& job, const std::string& created_at, const std::string& state,
                const std::string& failure, const std::string& video_url) {
    return {{"id", job.id},
            {"generation_type", "video"},
            {"state", state},
            {"failure_reason", failure.empty() ? json() : json(failure)},
            {"created_at", created_at},
            {"assets", video_url.empty() ? json() : json{{"video", video_url}}},
            {"model", job.model},
            {"request", job.request}};
}

/// The handlers, and what the mock remembers beyond Job: each job's outcome once decided, and
/// deletions.
class LumaMock {
public:
    explicit LumaMock(MockContext& ctx) : ctx_(ctx) {}

    void create(const httplib::Request& req, httplib::Response& res) {
        if (!authed(ctx_, req, res)) return;
        json body = json::parse(req.body, nullptr, false);
        if (body.is_discarded()) return reply(res, 400, "request body is not valid JSON");
        const std::string prompt = body.is_object() && body.value("prompt", json()).is_string()
                                       ? body["prompt"].get<std::string>()
                                       : "";
        if (ctx_.http_fault(nullptr, &prompt, req, res, "create", detail)) return;
        std::string why = invalid(body);
        std::string image;
        if (why.empty()) {
            why = fetch(ctx_, req, body["keyframes"]["frame0"]["url"].get<std::string>(), image);
        }
        if (!why.empty()) return reply(res, 400, why);

        Job job;
        job.id = uuid4();
        job.provider = "luma";
        job.model = body["model"].get<std::string>();
        job.prompt = prompt;
        job.image = std::move(image);
        job.request = body;  // the keyframe is a URL: nothing to elide
        job.faults = ctx_.faults_for(prompt, req);
        auto added = ctx_.add(std::move(job));
        const std::string created = iso8601_utc(vmeval::Clock::now());
        {
            std::lock_guard<std::mutex> lock(mutex_);
            created_at_[added->id] = created;
        }
        res.status = 201;
        res.set_content(generation(*added, created, "queued", "", "").dump(), "application/json");
    }

    void get(const httplib::Request& req, httplib::Response& res) {
        if (!authed(ctx_, req, res)) return;
        auto job = ctx_.find(req.matches[1]);
        const std::string created = live(job.get());
        if (created.empty()) return reply(res, 404, "Generation not found");
        if (ctx_.http_fault(job.get(), nullptr, req, res, "poll", detail)) return;
        ++job->polls;
        std::string state = "queued", failure, video;
        const Phase phase = ctx_.phase(*job);
        if (phase == Phase::Running) state = "dreaming";
        if (phase == Phase::Done) {
            failure = outcome(*job, req);
            state = failure.empty() ? "completed" : "failed";
            if (failure.empty()) video = ctx_.file_url(req, *job);
        }
        res.set_content(generation(*job, created, state, failure, video).dump(),
                        "application/json");
    }

    void remove(const httplib::Request& req, httplib::Response& res) {
        if (!authed(ctx_, req, res)) return;
        auto job = ctx_.find(req.matches[1]);
        if (live(job.get()).empty()) return reply(res, 404, "Generation not found");
        std::lock_guard<std::mutex> lock(mutex_);
        deleted_.insert(job->id);
        job->cancelled = true;
        res.status = 204;
    }

private:
    /// created_at of a Luma job that was not deleted, else "".
    std::string live(const Job* job) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (job == nullptr || deleted_.count(job->id) || !created_at_.count(job->id)) return "";
        return created_at_[job->id];
    }

    /// failure_reason of a finished job ("" = completed), decided once: a fault used up on this
    /// poll must not flip the outcome on the next.
    std::string outcome(Job& job, const httplib::Request& req) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = failure_.find(job.id);
        if (it != failure_.end()) return it->second;
        std::string reason;
        if (ctx_.take(&job, req, "moderation")) {
            reason = "400: failed to moderate image";
        } else if (ctx_.take(&job, req, "job-failed")) {
            reason = "500: generation failed (mock fault job-failed)";
        }
        failure_[job.id] = reason;
        return reason;
    }

    MockContext& ctx_;
    std::mutex mutex_;
    std::map<std::string, std::string> failure_;
    std::map<std::string, std::string> created_at_;
    std::set<std::string> deleted_;
};

}  // namespace

void register_luma(httplib::Server& server, MockContext& ctx) {
    auto m = std::make_shared<LumaMock>(ctx);
    const std::string base = kLumaPrefix;
    using Req = const httplib::Request&;
    using Res = httplib::Response&;
    server.Post(base + "/generations(/video)?", [m](Req req, Res res) { m->create(req, res); });
    server.Get(base + "/generations/([^/]+)", [m](Req req, Res res) { m->get(req, res); });
    server.Delete(base + "/generations/([^/]+)", [m](Req req, Res res) { m->remove(req, res); });
    server.Get(base + "/ping",
               [](Req, Res res) { res.set_content(R"({"message":"pong"})", "application/json"); });
}

}  // namespace vmeval::mock
