#pragma once

// What each provider's answers mean, as free functions of the answer alone: the ApiModel hooks
// call them, and so do the unit tests and the fuzz target tests/fuzz/provider_responses_fuzz.cpp,
// which feeds them arbitrary bytes. Each throws vmeval::Error only, never a JSON exception.

#include <nlohmann/json.hpp>
#include <string>

#include "models/api/api_model.hpp"

namespace vmeval::api {

/// Luma: the message of {"detail": "..."} or FastAPI's {"detail": [{"loc", "msg"}]}; "" if none.
std::string luma_message(const std::string& body);
/// Luma: the generation id of a create answer; throws Error(Http) naming `model`.
std::string luma_generation_id(const std::string& model, const http::Response& res);
/// Luma: a GET /generations/{id} answer; throws Error(Http) when it cannot be read.
JobStatus luma_status(const std::string& model, const http::Response& res);

/// Veo: what a Gemini error body says.
struct VeoError {
    std::string detail;    ///< "STATUS: message", "" when the body says nothing readable
    bool bad_key = false;  ///< the key itself was refused (API_KEY_INVALID)
};
VeoError veo_error(const std::string& body);
/// Veo: the operation name of a create answer; throws Error(Http) naming `model`.
std::string veo_operation_name(const std::string& model, const http::Response& res);
/// Veo: an operation document; throws Error(Http) when it cannot be read.
JobStatus veo_status(const std::string& model, const http::Response& res);

/// Kling: the {code, message, request_id, data} envelope every answer comes in.
struct KlingEnvelope {
    bool has_code = false;  ///< false: not an envelope at all
    long code = 0;          ///< 0 is success
    nlohmann::json data = nlohmann::json::object();
    std::string detail;  ///< "code N: message (request_id R)", unredacted
};
KlingEnvelope kling_envelope(const std::string& body);
/// Kling: data.task_id of a create answer, "" when absent or unusable in a URL path.
std::string kling_task_id(const nlohmann::json& data);
/// Kling: a task's `data`; throws Error(Http) naming `model` (with an excerpt of `body`).
JobStatus kling_status(const std::string& model, const nlohmann::json& data,
                       const std::string& body);

/// Sora: "message (code)" of OpenAI's {"error": {...}} envelope; "" when none.
std::string openai_message(const std::string& body);
/// Sora: error.code of an OpenAI error body, "" when none.
std::string openai_code(const std::string& body);
/// Sora: the video id of a create answer; throws Error(Http) naming `model`.
std::string sora_video_id(const std::string& model, const http::Response& res);
/// Sora: a GET /videos/{id} answer; throws Error(Http) when it cannot be read.
JobStatus sora_status(const std::string& model, const http::Response& res);

/// Runway: the text of {"error": "..."} (or a nested message, or the first issue); "" when none.
std::string runway_message(const std::string& body);
/// Runway: the task id of a create answer; throws Error(Http) naming `model`.
std::string runway_task_id(const std::string& model, const http::Response& res);
/// Runway: a GET /v1/tasks/{id} answer; throws Error(Http) when it cannot be read.
JobStatus runway_status(const std::string& model, const http::Response& res);

}  // namespace vmeval::api
