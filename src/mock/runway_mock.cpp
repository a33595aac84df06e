// Mock of Runway's developer API, under kRunwayPrefix (= the real https://api.dev.runwayml.com):
//   POST   /v1/image_to_video  JSON {model, promptImage, promptText, ratio, duration, seed},
//                              validated per model as Runway does -> 200 {"id"}
//                              (gen4_aleph, a video-to-video model, gets Runway's 400 here)
//   GET    /v1/tasks/{id}      PENDING (THROTTLED with the "throttled" fault) -> RUNNING (progress
//                              0..1) -> SUCCEEDED (output: [file URL, no auth]) | FAILED |
//                              CANCELLED
//   DELETE /v1/tasks/{id}      204; cancels a running task, deletes a finished one (then 404)
// Every route wants `Authorization: Bearer <key>` and `X-Runway-Version: 2024-11-06`; errors are
// {"error": "..."}. Faults: create-/poll-/download-* (HTTP), "moderation" (FAILED,
// SAFETY.INPUT.IMAGE), "job-failed" (FAILED, INTERNAL.BAD_OUTPUT.CODE01), "stuck", "throttled".

#include <httplib.h>

#include <algorithm>

#include "mock/mock_server.hpp"

namespace vmeval::mock {

namespace {

using json = nlohmann::json;

constexpr const char* kVersion = "2024-11-06";
constexpr size_t kMaxDataUri = 5ull * 1024 * 1024;

std::string shape(int, const std::string& message) { return json{{"error", message}}.dump(); }

void reply(httplib::Response& res, int status, const std::string& message) {
    res.status = status;
    res.set_content(shape(status, message), "application/json");
}

bool authorised(MockContext& ctx, const httplib::Request& req, httplib::Response& res) {
    std::string auth = req.get_header_value("Authorization");
    std::string key = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
    if (!ctx.key_ok(key)) {
        reply(res, 401, "Incorrect or missing API key.");
        return false;
    }
    std::string version = req.get_header_value("X-Runway-Version");
    if (version != kVersion) {
        reply(res, 400,
              version.empty()
                  ? "The X-Runway-Version header is required."
                  : "Invalid X-Runway-Version: '" + version + "'. Use " + kVersion + ".");
        return false;
    }
    return true;
}

size_t utf16_units(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) {
        if ((c & 0xC0) != 0x80) n += c >= 0xF0 ? 2 : 1;
    }
    return n;
}

struct Rules {
    std::vector<std::string> ratios;
    bool prompt_required;
};

const Rules* rules_for(const std::string& model) {
    static const Rules gen4{{"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"},
                            false};
    static const Rules gen3a{{"1280:768", "768:1280"}, true};
    if (model == "gen4_turbo") return &gen4;
    if (model == "gen3a_turbo") return &gen3a;
    return nullptr;
}

/// Checks promptImage; fills `image` with the bytes of a data URI. Returns the problem, or "".
std::string check_image(const json& prompt_image, std::string& image, json& summary) {
    std::string uri;
    if (prompt_image.is_string()) {
        uri = prompt_image.get<std::string>();
    } else if (prompt_image.is_array() && prompt_image.size() == 1 && prompt_image[0].is_object() &&
               prompt_image[0].value("uri", json()).is_string()) {
        if (prompt_image[0].value("position", "first") != "first") {
            return "promptImage: this model takes a first frame only";
        }
        uri = prompt_image[0]["uri"].get<std::string>();
    } else {
        return "promptImage must be a string or an array of one {uri, position}";
    }
    summary = {{"uri_bytes", uri.size()}};
    if (uri.rfind("https://", 0) == 0 || uri.rfind("runway://", 0) == 0) {
        summary["kind"] = uri.substr(0, uri.find(':'));
        return "";  // a loopback mock cannot fetch it; accepted as the real API would
    }
    static const std::vector<std::string> kTypes = {"image/png", "image/jpeg", "image/webp"};
    for (const auto& type : kTypes) {
        std::string head = "data:" + type + ";base64,";
        if (uri.rfind(head, 0) != 0) continue;
        if (uri.size() > kMaxDataUri) {
            return "promptImage: data URIs must be at most 5 MB (5242880 characters)";
        }
        bool ok = false;
        ok = decode_base64(uri.substr(head.size()), image);
        if (!ok || image.empty()) return "promptImage: the data URI is not valid base64";
        summary["kind"] = "data";
        summary["mime"] = type;
        summary["image_bytes"] = image.size();
        return "";
    }
    return "promptImage must be an HTTPS URL, a runway:// URI or a "
           "data:image/(png|jpeg|webp);base64 URI";
}

std::string text_of(const json& object, const char* key) {
    if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
    return object[key].get<std::string>();
}

/// What Runway would answer 400 about in an image_to_video body, or "" when it is valid.
std::string check_body(const json& body, std::string& image, json& summary) {
    const std::string model = text_of(body, "model");
    if (model == "gen4_aleph") {
        return "Model gen4_aleph is not available for image_to_video; it is a video-to-video "
               "model (POST /v1/video_to_video).";
    }
    const Rules* rules = rules_for(model);
    if (rules == nullptr) return "Invalid model: '" + model + "'.";
    const std::string prompt = text_of(body, "promptText");
    if (body.contains("promptText") && prompt.empty()) {
        return "promptText must be a non-empty string.";
    }
    if (rules->prompt_required && prompt.empty()) {
        return "promptText is required for " + model + ".";
    }
    if (utf16_units(prompt) > 1000) return "promptText must be at most 1000 characters.";
    const std::string ratio = text_of(body, "ratio");
    if (std::find(rules->ratios.begin(), rules->ratios.end(), ratio) == rules->ratios.end()) {
        return "Invalid ratio '" + ratio + "' for " + model + ".";
    }
    const json duration = body.value("duration", json(10));
    if (!duration.is_number_integer() || (duration != 5 && duration != 10)) {
        return "duration must be 5 or 10 for " + model + ".";
    }
    if (body.contains("seed") &&
        (!body["seed"].is_number_unsigned() || body["seed"].get<std::uint64_t>() > 4294967295ull)) {
        return "seed must be an integer from 0 to 4294967295.";
    }
    return check_image(body.value("promptImage", json()), image, summary);
}

void image_to_video(MockContext& ctx, const httplib::Request& req, httplib::Response& res) {
    if (!authorised(ctx, req, res)) return;
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        reply(res, 400, "The request body is not valid JSON.");
        return;
    }
    std::string prompt = text_of(body, "promptText");
    if (ctx.http_fault(nullptr, &prompt, req, res, "create", shape)) return;
    std::string image;
    json summary;
    std::string problem = check_body(body, image, summary);
    if (!problem.empty()) {
        reply(res, 400, problem);
        return;
    }

    Job job;
    job.id = ctx.new_id("task-");
    job.provider = "runway";
    job.model = text_of(body, "model");
    job.prompt = prompt;
    job.image = std::move(image);
    job.request = body;
    job.request["promptImage"] = summary;  // the image itself is in job.image
    job.request["x_runway_version"] = req.get_header_value("X-Runway-Version");
    job.faults = ctx.faults_for(prompt, req);
    auto added = ctx.add(std::move(job));
    res.status = 200;
    res.set_content(json{{"id", added->id}}.dump(), "application/json");
}

std::shared_ptr<Job> lookup(MockContext& ctx, const httplib::Request& req, httplib::Response& res) {
    auto job = ctx.find(req.matches[1]);
    if (!job || job->provider != "runway" || job->request.value("deleted", false)) {
        reply(res, 404, "Task not found.");
        return nullptr;
    }
    return job;
}

json task(MockContext& ctx, Job& job, const httplib::Request& req) {
    json t = {{"id", job.id}, {"createdAt", "2026-01-01T00:00:00.000Z"}};
    if (job.cancelled) {
        t["status"] = "CANCELLED";
        return t;
    }
    switch (ctx.phase(job)) {
        case Phase::Queued:
            t["status"] = ctx.take(&job, req, "throttled") ? "THROTTLED" : "PENDING";
            break;
        case Phase::Running:
            t["status"] = "RUNNING";
            t["progress"] = std::min(0.99, ctx.progress(job));
            break;
        case Phase::Done:
            if (ctx.take(&job, req, "moderation")) {
                t["status"] = "FAILED";
                t["failure"] =
                    "An input to your task was rejected by our content moderation system.";
                t["failureCode"] = "SAFETY.INPUT.IMAGE";
            } else if (ctx.take(&job, req, "job-failed")) {
                t["status"] = "FAILED";
                t["failure"] = "The output did not pass our quality checks (mock).";
                t["failureCode"] = "INTERNAL.BAD_OUTPUT.CODE01";
            } else {
                t["status"] = "SUCCEEDED";
                t["output"] = json::array({ctx.file_url(req, job)});
            }
            break;
    }
    return t;
}

}  // namespace

void register_runway(httplib::Server& server, MockContext& ctx) {
    const std::string p = kRunwayPrefix;
    server.Post(p + "/v1/image_to_video",
                [&ctx](const httplib::Request& req, httplib::Response& res) {
                    image_to_video(ctx, req, res);
                });
    server.Get(p + R"(/v1/tasks/([^/]+))",
               [&ctx](const httplib::Request& req, httplib::Response& res) {
                   if (!authorised(ctx, req, res)) return;
                   auto job = lookup(ctx, req, res);
                   if (!job || ctx.http_fault(job.get(), nullptr, req, res, "poll", shape)) return;
                   job->polls++;
                   res.status = 200;
                   res.set_content(task(ctx, *job, req).dump(), "application/json");
               });
    server.Delete(p + R"(/v1/tasks/([^/]+))",
                  [&ctx](const httplib::Request& req, httplib::Response& res) {
                      if (!authorised(ctx, req, res)) return;
                      auto job = lookup(ctx, req, res);
                      if (!job) return;
                      // A task still in flight is cancelled; a finished one is deleted and no
                      // longer readable.
                      if (ctx.phase(*job) == Phase::Done && !job->cancelled) {
                          job->request["deleted"] = true;
                      }
                      job->cancelled = true;
                      res.status = 204;
                  });
}

}  // namespace vmeval::mock
