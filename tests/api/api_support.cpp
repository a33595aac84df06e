#include "api/api_support.hpp"

#include <gtest/gtest.h>
#include <stb_image.h>

#include <cstdlib>

#include "vmeval/registry/registry.hpp"

namespace vmeval::testkit {

namespace {
constexpr const char* kUnset = "\x01";
}

mock::MockOptions MockApi::fast_options() {
    mock::MockOptions o;
    o.port = 0;
    o.generation_s = 0.2;
    o.queue_s = 0.05;
    return o;
}

MockApi::MockApi(mock::MockOptions options) : server_(std::make_unique<mock::MockServer>(options)) {
    server_->start();
    // A developer's shell must not send the tests elsewhere.
    for (const char* name : {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
                             "VMEVAL_PUBLIC_IMAGE_DIR", "VMEVAL_PUBLIC_IMAGE_BASE_URL", "VMEVAL_LUMA_BASE_URL",
                             "VMEVAL_GEMINI_BASE_URL", "VMEVAL_KLING_BASE_URL", "VMEVAL_OPENAI_BASE_URL",
                             "VMEVAL_RUNWAY_BASE_URL", "VMEVAL_JOB_TIMEOUT_S", "VMEVAL_HTTP_TIMEOUT_S",
                             "VMEVAL_HTTP_MAX_ATTEMPTS", "VMEVAL_HTTP_RETRY_BASE_S"}) {
        unset(name);
    }
    set("VMEVAL_MOCK_API", server_->url());
    set("VMEVAL_POLL_INTERVAL_S", "0.05");
    set("LUMA_API_KEY", kLumaKey);
    set("GEMINI_API_KEY", kGeminiKey);
    set("KLING_ACCESS_KEY", kKlingAccess);
    set("KLING_SECRET_KEY", kKlingSecret);
    set("OPENAI_API_KEY", kOpenAIKey);
    set("RUNWAYML_API_SECRET", kRunwayKey);
    set("AWS_ACCESS_KEY_ID", kAwsAccess);
    set("AWS_SECRET_ACCESS_KEY", kAwsSecret);
    set("AWS_REGION", "us-east-1");
    set("AWS_S3_BUCKET", "vmeval-test");
}

MockApi::~MockApi() {
    server_->stop();
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
        if (it->second == kUnset) {
            ::unsetenv(it->first.c_str());
        } else {
            ::setenv(it->first.c_str(), it->second.c_str(), 1);
        }
    }
}

void MockApi::unset(const std::string& name) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old ? std::string(old) : std::string(kUnset));
    ::unsetenv(name.c_str());
}

void MockApi::set(const std::string& name, const std::string& value) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old ? std::string(old) : std::string(kUnset));
    ::setenv(name.c_str(), value.c_str(), 1);
}

std::vector<std::string> MockApi::child_env() const {
    std::vector<std::string> env;
    for (const auto& [name, old] : saved_) {
        (void)old;
        const char* v = std::getenv(name.c_str());
        if (v) env.push_back(name + "=" + v);
    }
    return env;
}

std::pair<int, int> image_size(const std::string& bytes) {
    int w = 0, h = 0, n = 0;
    stbi_info_from_memory(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()),
                          &w, &h, &n);
    return {w, h};
}

ErrorCode factory_error(const std::string& model, const std::map<std::string, std::string>& params,
                        std::string* message) {
    Params p;
    for (const auto& [k, v] : params) p.set(k, v);
    try {
        registry::create_model(*registry::find_model(model), p);
    } catch (const Error& e) {
        if (message) *message = e.what();
        return e.code();
    }
    ADD_FAILURE() << model << " accepted the parameters";
    return ErrorCode::Internal;
}

}  // namespace vmeval::testkit
