// Google Veo on the Gemini API, under kVeoPrefix (/gemini/v1beta):
//
//   POST {prefix}/models/{model}:predictLongRunning  key: x-goog-api-key header or ?key=
//   GET  {prefix}/models/{model}/operations/{id}      {"name"} until done, then done:true with a
//                                                      response, an error or an RAI-filtered
//                                                      response
//   GET  {prefix}/files/{id}:download?alt=media       key required; 302 to the job's
//   /files/{id}.mp4
//
// Errors use google.rpc.Status: {"error": {"code", "message", "status", "details"?}}. A wrong key
// is 400 INVALID_ARGUMENT with reason API_KEY_INVALID, a missing one 403 PERMISSION_DENIED.

#include <httplib.h>
#include <stb_image.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "mock/mock_server.hpp"

namespace vmeval::mock {

namespace {

using json = nlohmann::json;

constexpr const char* kResponseType =
    "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse";

const char* status_word(int code) {
    switch (code) {
        case 400:
            return "INVALID_ARGUMENT";
        case 401:
            return "UNAUTHENTICATED";
        case 403:
            return "PERMISSION_DENIED";
        case 404:
            return "NOT_FOUND";
        case 429:
            return "RESOURCE_EXHAUSTED";
        case 500:
            return "INTERNAL";
        case 503:
            return "UNAVAILABLE";
        default:
            return "UNKNOWN";
    }
}

std::string error_body(int code, const std::string& message, const json& details = nullptr) {
    json e = {{"code", code}, {"message", message}, {"status", status_word(code)}};
    if (!details.is_null()) e["details"] = details;
    return json{{"error", e}}.dump();
}

void reply_error(httplib::Response& res, int code, const std::string& message,
                 const json& details = nullptr) {
    res.status = code;
    res.set_content(error_body(code, message, details), "application/json");
}

bool known_model(const std::string& m) {
    for (const char* id :
         {"veo-2.0-generate-001", "veo-3.0-generate-001", "veo-3.0-fast-generate-001",
          "veo-3.1-generate-preview", "veo-3.1-fast-generate-preview"}) {
        if (m == id) return true;
    }
    return false;
}

/// True when the request carries a good key; otherwise the Gemini API's answer is written.
bool check_key(const MockContext& ctx, const httplib::Request& req, httplib::Response& res) {
    std::string key = req.get_header_value("x-goog-api-key");
    if (key.empty() && req.has_param("key")) key = req.get_param_value("key");
    if (key.empty()) {
        reply_error(
            res, 403,
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API.");
        return false;
    }
    if (!ctx.key_ok(key)) {
        reply_error(
            res, 400, "API key not valid. Please pass a valid API key.",
            json::array({{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                          {"reason", "API_KEY_INVALID"},
                          {"domain", "googleapis.com"},
                          {"metadata", {{"service", "generativelanguage.googleapis.com"}}}}}));
        return false;
    }
    return true;
}

/// The reason the Gemini API would refuse this body with 400, or "". Fills `image`.
std::string validate(const std::string& model, const json& body, std::string& image) {
    if (!body.is_object() || !body.contains("instances") || !body["instances"].is_array() ||
        body["instances"].size() != 1 || !body["instances"][0].is_object()) {
        return "instances must hold exactly one instance object";
    }
    const json& inst = body["instances"][0];
    if (inst.contains("prompt") && !inst["prompt"].is_string()) {
        return "instances[0].prompt must be a string";
    }
    if (!inst.contains("image") || !inst["image"].is_object()) {
        return "this mock serves image-to-video only";
    }
    const json& img = inst["image"];
    if (img.contains("gcsUri")) {
        return "gcsUri isn't supported by the Gemini API: send bytesBase64Encoded";
    }
    std::string mime = img.value("mimeType", "");
    if (mime != "image/png" && mime != "image/jpeg") {
        return "image.mimeType must be image/png or image/jpeg";
    }
    const std::string b64 = img.value("bytesBase64Encoded", "");
    int w = 0, h = 0, n = 0;
    if (!decode_base64(b64, image) ||
        !stbi_info_from_memory(reinterpret_cast<const unsigned char*>(image.data()),
                               static_cast<int>(image.size()), &w, &h, &n)) {
        return "image.bytesBase64Encoded is not base64 of an image";
    }

    const json params = body.value("parameters", json::object());
    if (!params.is_object()) return "parameters must be an object";
    for (const auto& [key, value] : params.items()) {
        (void)value;
        for (const char* vertex_only :
             {"seed", "generateAudio", "fps", "storageUri", "outputGcsUri", "pubsubTopic",
              "compressionQuality", "resizeMode"}) {
            if (key == vertex_only) return "`" + key + "` isn't supported by this model.";
        }
        if (key != "aspectRatio" && key != "durationSeconds" && key != "negativePrompt" &&
            key != "resolution" && key != "personGeneration" && key != "sampleCount" &&
            key != "enhancePrompt") {
            return "Invalid JSON payload received. Unknown name \"" + key + "\" at 'parameters'.";
        }
    }
    const bool veo2 = model.rfind("veo-2", 0) == 0, veo30 = model.rfind("veo-3.0", 0) == 0;
    std::string ratio = params.value("aspectRatio", "16:9");
    if (ratio != "16:9" && ratio != "9:16") return "aspectRatio must be 16:9 or 9:16";
    int duration = 8;
    if (params.contains("durationSeconds")) {
        if (!params["durationSeconds"].is_number_integer()) {
            return "durationSeconds must be an integer";
        }
        duration = params["durationSeconds"].get<int>();
    }
    if (veo2 ? (duration < 5 || duration > 8) : (duration != 4 && duration != 6 && duration != 8)) {
        return "The number value for `durationSeconds` is out of bound. Please provide a value "
               "between " +
               std::string(veo2 ? "5 and 8" : "4 and 8") + ", inclusive.";
    }
    if (params.contains("resolution")) {
        std::string res =
            params["resolution"].is_string() ? params["resolution"].get<std::string>() : "";
        if (veo2) return "`resolution` isn't supported by this model.";
        if (res != "720p" && res != "1080p" && (veo30 || res != "4k")) {
            return "resolution " + res + " is not supported";
        }
        if (veo30 && res == "1080p" && ratio != "16:9") return "1080p is only supported for 16:9";
        if (!veo30 && res != "720p" && duration != 8) {
            return res + " is only supported for 8 s videos";
        }
    }
    if (params.contains("negativePrompt") && !params["negativePrompt"].is_string()) {
        return "negativePrompt must be a string";
    }
    return "";
}

/// Each finished job's fate, decided on the first poll that sees it done (faults are used up).
struct Outcomes {
    std::mutex mutex;
    std::map<std::string, std::string> by_job;
};

std::string host_of(const MockContext& ctx, const httplib::Request& req) {
    std::string host = req.get_header_value("Host");
    return host.empty() ? ctx.options().host + ":" + std::to_string(ctx.options().port) : host;
}

}  // namespace

void register_veo(httplib::Server& server, MockContext& ctx) {
    const std::string prefix = kVeoPrefix;
    const ErrorShape shape = [](int code, const std::string& m) { return error_body(code, m); };
    auto outcomes = std::make_shared<Outcomes>();

    server.Post(
        prefix + R"(/models/([^/:]+):predictLongRunning)",
        [&ctx, shape](const httplib::Request& req, httplib::Response& res) {
            if (!check_key(ctx, req, res)) return;
            const std::string model = req.matches[1];
            json body = json::parse(req.body, nullptr, false);
            std::string prompt;
            if (body.is_object() && body.contains("instances") && body["instances"].is_array() &&
                !body["instances"].empty() && body["instances"][0].is_object()) {
                prompt = body["instances"][0].value("prompt", "");
            }
            if (ctx.http_fault(nullptr, &prompt, req, res, "create", shape)) return;
            if (!known_model(model)) {
                return reply_error(
                    res, 404,
                    "models/" + model +
                        " is not found for API version v1beta, or is not "
                        "supported for predictLongRunning. Call ListModels to see the list "
                        "of available models and their supported methods.");
            }
            if (body.is_discarded()) return reply_error(res, 400, "Invalid JSON payload received.");
            Job job;
            std::string why = validate(model, body, job.image);
            if (!why.empty()) return reply_error(res, 400, why);

            job.id = ctx.new_id("veo");
            job.provider = "veo";
            job.model = model;
            job.prompt = prompt;
            job.request = body;
            job.request["instances"][0]["image"]["bytesBase64Encoded"] =
                "<" + std::to_string(job.image.size()) + " bytes>";
            // Lets tests check that the key travelled in the header and never in the URL.
            job.request["_mock"] = {{"key_in_query", req.has_param("key")}};
            job.faults = ctx.faults_for(prompt, req);
            auto added = ctx.add(std::move(job));
            res.set_content(json{{"name", "models/" + model + "/operations/" + added->id}}.dump(),
                            "application/json");
        });

    server.Get(prefix + R"(/models/([^/]+)/operations/([^/]+))", [&ctx, shape, outcomes, prefix](
                                                                     const httplib::Request& req,
                                                                     httplib::Response& res) {
        if (!check_key(ctx, req, res)) return;
        auto job = ctx.find(req.matches[2]);
        if (!job || job->provider != "veo" || job->model != req.matches[1].str()) {
            return reply_error(res, 404, "Operation not found: " + req.path);
        }
        if (ctx.http_fault(job.get(), nullptr, req, res, "poll", shape)) return;
        ++job->polls;
        json op = {{"name", "models/" + job->model + "/operations/" + job->id}};
        if (ctx.phase(*job) != Phase::Done) return res.set_content(op.dump(), "application/json");

        std::string outcome;
        {
            std::lock_guard<std::mutex> lock(outcomes->mutex);
            auto it = outcomes->by_job.find(job->id);
            if (it == outcomes->by_job.end()) {
                outcome = ctx.take(job.get(), req, "moderation")   ? "moderation"
                          : ctx.take(job.get(), req, "job-failed") ? "failed"
                                                                   : "ok";
                outcomes->by_job[job->id] = outcome;
            } else {
                outcome = it->second;
            }
        }
        op["done"] = true;
        if (outcome == "failed") {
            op["error"] = {{"code", 13},
                           {"message", "Video generation failed: internal error (mock)."}};
        } else if (outcome == "moderation") {
            op["response"] = {
                {"@type", kResponseType},
                {"generateVideoResponse",
                 {{"raiMediaFilteredCount", 1},
                  {"raiMediaFilteredReasons",
                   json::array({"Your prompt or image could not be used because it may violate "
                                "our usage guidelines (mock). You have not been charged for "
                                "this attempt."})}}}};
        } else {
            std::string uri = "http://" + host_of(ctx, req) + prefix + "/files/" + job->id +
                              ":download?alt=media";
            op["response"] = {{"@type", kResponseType},
                              {"generateVideoResponse",
                               {{"generatedSamples", json::array({{{"video", {{"uri", uri}}}}})}}}};
        }
        res.set_content(op.dump(), "application/json");
    });

    // The real file URI answers with a redirect to short-lived storage; clients must follow it.
    server.Get(prefix + R"(/files/([^/:]+):download)",
               [&ctx](const httplib::Request& req, httplib::Response& res) {
                   if (!check_key(ctx, req, res)) return;
                   auto job = ctx.find(req.matches[1]);
                   if (!job || job->provider != "veo") {
                       return reply_error(res, 404, "File not found: " + req.path);
                   }
                   if (req.get_param_value("alt") != "media") {
                       return reply_error(res, 400, "this mock serves alt=media only");
                   }
                   res.status = 302;
                   res.set_header("Location", ctx.file_url(req, *job));
               });
}

}  // namespace vmeval::mock
