// Mock of OpenAI's Videos API (Sora), under kSoraPrefix (= the real https://api.openai.com/v1):
//   POST   /videos               multipart: model, prompt, seconds, size, input_reference (file);
//                                validated as OpenAI does -> 200 Video {id, status: "queued", ...}
//   GET    /videos/{id}          queued -> in_progress (progress 0..100) -> completed | failed
//   GET    /videos/{id}/content  the MP4 (Bearer required, like the real one)
//   DELETE /videos/{id}          only completed or failed videos -> {"deleted": true}
// Every route wants `Authorization: Bearer <key>`. Faults: create-/poll-/download-* (HTTP),
// "moderation" (failed, moderation_blocked), "job-failed", "stuck", "sentinel" (a synchronous
// 400 sentinel_block on create) and "gone" (410 on create, the shape a retired API answers with).

#include <httplib.h>
#include <stb_image.h>

#include <algorithm>

#include "mock/mock_server.hpp"

namespace vmeval::mock {

namespace {

using json = nlohmann::json;

std::string error_body(const std::string& message, const std::string& type, const json& param,
                       const json& code) {
    return json{{"error", {{"message", message}, {"type", type}, {"param", param}, {"code", code}}}}
        .dump();
}

std::string shape(int status, const std::string& message) {
    if (status == 429) return error_body(message, "requests", nullptr, "rate_limit_exceeded");
    if (status >= 500) return error_body(message, "server_error", nullptr, nullptr);
    return error_body(message, "invalid_request_error", nullptr, nullptr);
}

void reply(httplib::Response& res, int status, const std::string& body) {
    res.status = status;
    res.set_content(body, "application/json");
}

void invalid(httplib::Response& res, const std::string& param, const std::string& message) {
    reply(res, 400, error_body(message, "invalid_request_error", param, "invalid_value"));
}

bool authorised(MockContext& ctx, const httplib::Request& req, httplib::Response& res) {
    std::string auth = req.get_header_value("Authorization");
    const std::string bearer = "Bearer ";
    std::string key = auth.rfind(bearer, 0) == 0 ? auth.substr(bearer.size()) : "";
    if (ctx.key_ok(key)) return true;
    std::string msg =
        key.empty()
            ? "You didn't provide an API key. You need to provide your API key in an "
              "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            : "Incorrect API key provided. You can find your API key at "
              "https://platform.openai.com/account/api-keys.";
    reply(res, 401,
          error_body(msg, "invalid_request_error", nullptr,
                     key.empty() ? json() : json("invalid_api_key")));
    return false;
}

std::string field(const httplib::Request& req, const std::string& name) {
    return req.has_file(name) ? req.get_file_value(name).content : "";
}

std::vector<std::string> sizes_for(const std::string& model) {
    std::vector<std::string> s = {"720x1280", "1280x720"};
    if (model.rfind("sora-2-pro", 0) == 0) {
        s.push_back("1024x1792");
        s.push_back("1792x1024");
    }
    return s;
}

const std::vector<std::string>& known_models() {
    static const std::vector<std::string> m = {"sora-2", "sora-2-pro", "sora-2-2025-10-06",
                                               "sora-2-pro-2025-10-06", "sora-2-2025-12-08"};
    return m;
}

/// The Video object as GET /videos/{id} shows it now, deciding the outcome when the job is done.
json video_object(MockContext& ctx, Job& job, const httplib::Request& req) {
    json v = {{"id", job.id},
              {"object", "video"},
              {"created_at", 1758941485},
              {"model", job.model},
              {"seconds", job.request["seconds"]},
              {"size", job.request["size"]},
              {"prompt", job.prompt},
              {"completed_at", nullptr},
              {"expires_at", nullptr},
              {"error", nullptr},
              {"remixed_from_video_id", nullptr}};
    switch (ctx.phase(job)) {
        case Phase::Queued:
            v["status"] = "queued";
            v["progress"] = 0;
            break;
        case Phase::Running:
            v["status"] = "in_progress";
            v["progress"] = std::min(99, static_cast<int>(ctx.progress(job) * 100));
            break;
        case Phase::Done:
            if (ctx.take(&job, req, "moderation")) {
                v["status"] = "failed";
                v["progress"] = 0;
                v["error"] = {{"code", "moderation_blocked"},
                              {"message", "Your request was blocked by our moderation system."}};
            } else if (ctx.take(&job, req, "job-failed")) {
                v["status"] = "failed";
                v["progress"] = 0;
                v["error"] = {{"code", "video_generation_failed"},
                              {"message", "Video generation failed (mock)."}};
            } else {
                v["status"] = "completed";
                v["progress"] = 100;
                v["completed_at"] = 1758941585;
                v["expires_at"] = 1758945185;
            }
            break;
    }
    job.request["last_status"] = v["status"];
    return v;
}

void create(MockContext& ctx, const httplib::Request& req, httplib::Response& res) {
    if (!authorised(ctx, req, res)) return;
    if (!req.is_multipart_form_data()) {
        invalid(res, "", "This endpoint expects multipart/form-data.");
        return;
    }
    std::string prompt = field(req, "prompt");
    if (ctx.http_fault(nullptr, &prompt, req, res, "create", shape)) return;
    if (ctx.take_for_create(prompt, req, "gone")) {
        reply(res, 410,
              error_body("The Videos API has been deprecated and was shut down on 2026-09-24. "
                         "Sora models are no longer available.",
                         "invalid_request_error", nullptr, "model_deprecated"));
        return;
    }
    std::string model = req.has_file("model") ? field(req, "model") : "sora-2";
    std::string seconds = req.has_file("seconds") ? field(req, "seconds") : "4";
    std::string size = req.has_file("size") ? field(req, "size") : "720x1280";
    const auto& models = known_models();
    if (std::find(models.begin(), models.end(), model) == models.end()) {
        invalid(res, "model",
                "Invalid value: '" + model + "'. Supported values are: 'sora-2' and 'sora-2-pro'.");
        return;
    }
    if (prompt.empty()) {
        invalid(res, "prompt", "Missing required parameter: 'prompt'.");
        return;
    }
    if (seconds != "4" && seconds != "8" && seconds != "12") {
        invalid(res, "seconds",
                "Invalid value: '" + seconds + "'. Supported values are: '4', '8', and '12'.");
        return;
    }
    auto sizes = sizes_for(model);
    if (std::find(sizes.begin(), sizes.end(), size) == sizes.end()) {
        invalid(res, "size", "Invalid value: '" + size + "' for model " + model + ".");
        return;
    }
    if (ctx.take_for_create(prompt, req, "sentinel")) {
        reply(res, 400,
              error_body("Hmmm something didn't look right with your request.",
                         "invalid_request_error", nullptr, "sentinel_block"));
        return;
    }

    json ref = nullptr;
    std::string image;
    if (req.has_file("input_reference")) {
        auto file = req.get_file_value("input_reference");
        int w = 0, h = 0, n = 0;
        bool known_type = file.content_type == "image/png" || file.content_type == "image/jpeg" ||
                          file.content_type == "image/webp";
        if (!known_type ||
            !stbi_info_from_memory(reinterpret_cast<const unsigned char*>(file.content.data()),
                                   static_cast<int>(file.content.size()), &w, &h, &n)) {
            invalid(res, "input_reference",
                    "Invalid file 'input_reference': unsupported or unreadable image ('" +
                        file.content_type + "').");
            return;
        }
        if (std::to_string(w) + "x" + std::to_string(h) != size) {
            invalid(res, "input_reference",
                    "Inpaint image must match the requested width and height");
            return;
        }
        ref = {{"filename", file.filename},
               {"content_type", file.content_type},
               {"bytes", file.content.size()},
               {"width", w},
               {"height", h}};
        image = file.content;
    }

    Job job;
    job.id = ctx.new_id("video_");
    job.provider = "sora";
    job.model = model;
    job.prompt = prompt;
    job.image = std::move(image);
    job.request = {
        {"model", model},         {"prompt", prompt},
        {"seconds", seconds},     {"size", size},
        {"input_reference", ref}, {"idempotency_key", req.get_header_value("Idempotency-Key")},
        {"delete_requests", 0}};
    job.faults = ctx.faults_for(prompt, req);
    auto added = ctx.add(std::move(job));
    json v = {{"id", added->id},
              {"object", "video"},
              {"created_at", 1758941485},
              {"status", "queued"},
              {"model", model},
              {"progress", 0},
              {"seconds", seconds},
              {"size", size},
              {"prompt", prompt},
              {"completed_at", nullptr},
              {"expires_at", nullptr},
              {"error", nullptr},
              {"remixed_from_video_id", nullptr}};
    reply(res, 200, v.dump());
}

/// The job named in the path, or a 404 in OpenAI's shape (deleted videos are gone too).
std::shared_ptr<Job> lookup(MockContext& ctx, const httplib::Request& req, httplib::Response& res) {
    auto job = ctx.find(req.matches[1]);
    if (!job || job->provider != "sora" || job->cancelled) {
        reply(res, 404,
              error_body("Video with id '" + std::string(req.matches[1]) + "' not found.",
                         "invalid_request_error", nullptr, nullptr));
        return nullptr;
    }
    return job;
}

}  // namespace

void register_sora(httplib::Server& server, MockContext& ctx) {
    const std::string p = kSoraPrefix;
    server.Post(p + "/videos", [&ctx](const httplib::Request& req, httplib::Response& res) {
        create(ctx, req, res);
    });
    server.Get(p + R"(/videos/([^/]+))",
               [&ctx](const httplib::Request& req, httplib::Response& res) {
                   if (!authorised(ctx, req, res)) return;
                   auto job = lookup(ctx, req, res);
                   if (!job || ctx.http_fault(job.get(), nullptr, req, res, "poll", shape)) return;
                   job->polls++;
                   reply(res, 200, video_object(ctx, *job, req).dump());
               });
    server.Get(p + R"(/videos/([^/]+)/content)", [&ctx](const httplib::Request& req,
                                                        httplib::Response& res) {
        if (!authorised(ctx, req, res)) return;
        auto job = lookup(ctx, req, res);
        if (!job) return;
        if (job->request.value("last_status", "") != "completed") {
            reply(res, 404,
                  error_body(
                      "Video is not ready yet; its content is available once it has completed.",
                      "invalid_request_error", nullptr, nullptr));
            return;
        }
        ctx.serve_video(*job, req, res, shape);
    });
    server.Delete(p + R"(/videos/([^/]+))", [&ctx](const httplib::Request& req,
                                                   httplib::Response& res) {
        if (!authorised(ctx, req, res)) return;
        auto job = lookup(ctx, req, res);
        if (!job) return;
        job->request["delete_requests"] = job->request.value("delete_requests", 0) + 1;
        std::string status = job->request.value("last_status", "queued");
        if (status != "completed" && status != "failed") {
            invalid(res, "video_id",
                    "Only completed or failed videos can be deleted (this one is " + status + ").");
            return;
        }
        job->cancelled = true;
        reply(res, 200,
              json{{"id", job->id}, {"object", "video.deleted"}, {"deleted", true}}.dump());
    });
}

}  // namespace vmeval::mock
