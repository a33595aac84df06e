#pragma once

// Shared by the provider tests: an in-process mock server on a free loopback port and the
// environment that points the clients at it.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mock/mock_server.hpp"
#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::testkit {

/// Starts vmeval's mock API on 127.0.0.1:<free port> and sets, for the test's lifetime,
/// VMEVAL_MOCK_API, VMEVAL_POLL_INTERVAL_S=0.05 and a fake key for every provider (restoring the
/// previous environment afterwards).
class MockApi {
public:
    explicit MockApi(mock::MockOptions options = fast_options());
    ~MockApi();
    MockApi(const MockApi&) = delete;
    MockApi& operator=(const MockApi&) = delete;

    std::string url() const { return server_->url(); }
    mock::MockContext& context() { return server_->context(); }
    /// "NAME=value" entries that point a vmeval child process at this server (for run_vmeval).
    std::vector<std::string> child_env() const;

    /// generation_s 0.2, queue 0.05: jobs finish in a few polls.
    static mock::MockOptions fast_options();

    /// The fake credentials set for each provider.
    static constexpr const char* kLumaKey = "luma-test-key-0001";
    static constexpr const char* kGeminiKey = "gemini-test-key-0002";
    static constexpr const char* kKlingAccess = "kling-access-0003";
    static constexpr const char* kKlingSecret = "kling-secret-0004";
    static constexpr const char* kOpenAIKey = "openai-test-key-0005";
    static constexpr const char* kRunwayKey = "runway-test-key-0006";
    static constexpr const char* kAwsAccess = "AKIATESTACCESS0007";
    static constexpr const char* kAwsSecret = "aws-secret-test-0008";

private:
    std::unique_ptr<mock::MockServer> server_;
    std::vector<std::pair<std::string, std::string>> saved_;  ///< name, previous value ("\x01" = unset)
    void set(const std::string& name, const std::string& value);
    void unset(const std::string& name);
};

/// Width and height of a PNG or JPEG held in memory (from its header).
std::pair<int, int> image_size(const std::string& bytes);

/// The error code with which building `model` with `params` fails (a test failure when it
/// succeeds); the message goes to `message` when given.
ErrorCode factory_error(const std::string& model, const std::map<std::string, std::string>& params,
                        std::string* message = nullptr);

}  // namespace vmeval::testkit
