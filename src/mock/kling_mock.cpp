// Kling AI image-to-video, under kKlingPrefix (/kling):
//
//   POST {prefix}/v1/videos/image2video            Authorization: Bearer <HS256 JWT>
//   GET  {prefix}/v1/videos/image2video/{task_id}  submitted -> processing -> succeed | failed
//   GET  data.task_result.videos[0].url            the shared /files/{id}.mp4 route, no auth
//
// Every answer is the envelope {code, message, request_id, data}; errors pair an HTTP status
// with Kling's code (401/1001-1004 auth, 400/1201 parameters, 404/1203 unknown model or task,
// 429/1302-1303 rate, 5xx/5000-5001). With MockOptions.required_key set, it is the secret key the
// JWT must be signed with; otherwise any well-formed token with an issuer passes.

#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stb_image.h>

#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "mock/mock_server.hpp"

namespace vmeval::mock {

namespace {

using json = nlohmann::json;

std::string envelope(MockContext& ctx, int code, const std::string& message,
                     const json& data = nullptr) {
    json j = {{"code", code}, {"message", message}, {"request_id", ctx.new_id("req-")}};
    if (!data.is_null()) j["data"] = data;
    return j.dump();
}

void reply(MockContext& ctx, httplib::Response& res, int status, int code,
           const std::string& message) {
    res.status = status;
    res.set_content(envelope(ctx, code, message), "application/json");
}

long long now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// Writes Kling's 401 with `code` and returns false.
bool deny(MockContext& ctx, httplib::Response& res, int code, const char* message) {
    reply(ctx, res, 401, code, message);
    return false;
}

/// Checks the Bearer JWT as Kling does; on failure writes the 401 and returns false.
bool check_jwt(MockContext& ctx, const httplib::Request& req, httplib::Response& res) {
    const std::string auth = req.get_header_value("Authorization");
    if (auth.empty()) return deny(ctx, res, 1001, "Authorization is empty");
    auto invalid = [&] { return deny(ctx, res, 1002, "Authorization is invalid"); };
    if (auth.rfind("Bearer ", 0) != 0) return invalid();
    const std::string token = auth.substr(7);
    auto d1 = token.find('.'), d2 = token.find('.', d1 == std::string::npos ? 0 : d1 + 1);
    if (d1 == std::string::npos || d2 == std::string::npos ||
        token.find('.', d2 + 1) != std::string::npos) {
        return invalid();
    }
    std::string header_text, payload_text, signature;
    if (!decode_base64(token.substr(0, d1), header_text, true) ||
        !decode_base64(token.substr(d1 + 1, d2 - d1 - 1), payload_text, true) ||
        !decode_base64(token.substr(d2 + 1), signature, true)) {
        return invalid();
    }
    json header = json::parse(header_text, nullptr, false);
    json payload = json::parse(payload_text, nullptr, false);
    if (!header.is_object() || header.value("alg", "") != "HS256" || !payload.is_object() ||
        payload.value("iss", "").empty() || !payload.contains("exp") ||
        !payload["exp"].is_number_integer() || !payload.contains("nbf") ||
        !payload["nbf"].is_number_integer() || signature.size() != 32) {
        return invalid();
    }
    const std::string& secret = ctx.options().required_key;
    if (!secret.empty()) {
        const std::string input = token.substr(0, d2);
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
             reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
        if (len != signature.size() || CRYPTO_memcmp(mac, signature.data(), len) != 0) {
            return invalid();
        }
    }
    const long long now = std::time(nullptr);
    if (payload["nbf"].get<long long>() > now) {
        return deny(ctx, res, 1003, "Authorization is not active");
    }
    if (payload["exp"].get<long long>() <= now) {
        return deny(ctx, res, 1004, "Authorization has expired");
    }
    return true;
}

size_t utf8_length(const std::string& s) {
    size_t n = 0;
    for (char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

/// Kling's 400/1201 reason for this body, or "". Fills `image`.
std::string validate(const json& body, std::string& image) {
    for (const char* field : {"prompt", "negative_prompt"}) {
        if (body.contains(field) &&
            (!body[field].is_string() || utf8_length(body[field].get<std::string>()) > 2500)) {
            return std::string(field) + " must be a string of at most 2500 characters";
        }
    }
    if (!body.contains("image") || !body["image"].is_string() ||
        body["image"].get<std::string>().empty()) {
        return "image is required";
    }
    const std::string b64 = body["image"].get<std::string>();
    if (b64.rfind("data:", 0) == 0) return "image must be raw base64 without a data: prefix";
    if (b64.rfind("http", 0) == 0) return "this mock cannot fetch image URLs: send base64";
    int w = 0, h = 0, n = 0;
    if (!decode_base64(b64, image, false) ||
        !stbi_info_from_memory(reinterpret_cast<const unsigned char*>(image.data()),
                               static_cast<int>(image.size()), &w, &h, &n)) {
        return "image is not base64 of a JPEG or PNG file";
    }
    if (image.size() > 10u * 1024 * 1024) return "image is larger than 10MB";
    if (w < 300 || h < 300) {
        return "image must be at least 300px on each side, got " + std::to_string(w) + "x" +
               std::to_string(h);
    }
    if (w > 2.5 * h || h > 2.5 * w) return "image aspect ratio must be between 1:2.5 and 2.5:1";
    if (body.contains("duration") &&
        !(body["duration"].is_string() && (body["duration"] == "5" || body["duration"] == "10"))) {
        return "duration must be the string \"5\" or \"10\"";
    }
    if (body.contains("mode") && !(body["mode"] == "std" || body["mode"] == "pro")) {
        return "mode must be std or pro";
    }
    if (body.contains("cfg_scale") && body.value("model_name", "").rfind("kling-v2", 0) == 0) {
        return "cfg_scale is not supported by kling-v2.x models";
    }
    return "";
}

bool known_model(const std::string& m) {
    for (const char* id : {"kling-v1", "kling-v1-5", "kling-v1-6", "kling-v2-master", "kling-v2-1",
                           "kling-v2-1-master", "kling-v2-5-turbo", "kling-v2-6"}) {
        if (m == id) return true;
    }
    return false;
}

struct Outcomes {
    std::mutex mutex;
    std::map<std::string, std::string> by_job;  ///< decided on the first poll that sees it done
};

}  // namespace

void register_kling(httplib::Server& server, MockContext& ctx) {
    const std::string prefix = std::string(kKlingPrefix) + "/v1/videos/image2video";
    const ErrorShape shape = [&ctx](int status, const std::string& m) {
        int code = status == 429 ? 1302 : status == 503 ? 5001 : status >= 500 ? 5000 : 1200;
        return envelope(ctx, code, m);
    };
    auto outcomes = std::make_shared<Outcomes>();

    server.Post(prefix, [&ctx, shape](const httplib::Request& req, httplib::Response& res) {
        if (!check_jwt(ctx, req, res)) return;
        json body = json::parse(req.body, nullptr, false);
        std::string prompt =
            body.is_object() && body.contains("prompt") && body["prompt"].is_string()
                ? body["prompt"].get<std::string>()
                : "";
        if (ctx.http_fault(nullptr, &prompt, req, res, "create", shape)) return;
        if (!body.is_object()) {
            return reply(ctx, res, 400, 1200, "request body is not a JSON object");
        }
        const std::string model = body.value("model_name", "kling-v1");
        if (!known_model(model)) {
            return reply(ctx, res, 404, 1203, "model_name not found: " + model);
        }
        Job job;
        std::string why = validate(body, job.image);
        if (!why.empty()) return reply(ctx, res, 400, 1201, why);

        job.id = ctx.new_id("kt");
        job.provider = "kling";
        job.model = model;
        job.prompt = prompt;
        job.request = body;
        job.request["image"] = "<" + std::to_string(job.image.size()) + " bytes>";
        job.faults = ctx.faults_for(prompt, req);
        auto added = ctx.add(std::move(job));
        const long long t = now_ms();
        json info = json::object();
        if (body.contains("external_task_id")) info["external_task_id"] = body["external_task_id"];
        res.set_content(envelope(ctx, 0, "SUCCEED",
                                 {{"task_id", added->id},
                                  {"task_status", "submitted"},
                                  {"task_info", info},
                                  {"created_at", t},
                                  {"updated_at", t}}),
                        "application/json");
    });

    server.Get(prefix + "/([^/]+)", [&ctx, shape, outcomes](const httplib::Request& req,
                                                            httplib::Response& res) {
        if (!check_jwt(ctx, req, res)) return;
        auto job = ctx.find(req.matches[1]);
        if (!job || job->provider != "kling") return reply(ctx, res, 404, 1203, "task not found");
        if (ctx.http_fault(job.get(), nullptr, req, res, "poll", shape)) return;
        ++job->polls;
        json data = {{"task_id", job->id},
                     {"task_status_msg", ""},
                     {"task_info", json::object()},
                     {"created_at", now_ms()},
                     {"updated_at", now_ms()}};
        Phase phase = ctx.phase(*job);
        data["task_status"] = phase == Phase::Queued ? "submitted" : "processing";
        if (phase == Phase::Done) {
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
            if (outcome == "ok") {
                data["task_status"] = "succeed";
                data["final_unit_deduction"] = "1";
                data["task_result"] = {{"videos", json::array({{{"id", job->id + "-v"},
                                                                {"url", ctx.file_url(req, *job)},
                                                                {"duration", "5.1"}}})}};
            } else {
                data["task_status"] = "failed";
                // Kling does not document its moderation text; this follows its "risk control"
                // wording.
                data["task_status_msg"] =
                    outcome == "moderation"
                        ? "Failure to pass the risk control system: the content may violate "
                          "the content security policy (mock)"
                        : "Task failed: internal generation error (mock)";
            }
        }
        res.set_content(envelope(ctx, 0, "SUCCEED", data), "application/json");
    });
}

}  // namespace vmeval::mock
