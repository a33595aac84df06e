#pragma once

// `vmeval mock-api`: one loopback server that speaks the five providers' APIs (and an
// S3-compatible PUT/GET/DELETE for Luma's image upload), so that users' CI and our tests exercise
// the real clients. Jobs move through each provider's real states; results are real MP4s made
// from the submitted first frame; faults are injected per prompt, per request or per server.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock/prefixes.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace vmeval::mock {

/// Decodes base64 (`url`: the -_ alphabet, padding optional, as in JWTs); false when invalid.
bool decode_base64(std::string in, std::string& out, bool url = false);

/// One fault: a kind such as "create-429" and how many more times it applies (-1 = always).
struct Fault {
    std::string kind;
    int remaining = -1;
};

/// Parses "create-429@2,download-truncate" (from `--fault`, the X-Mock-Fault header, or a prompt
/// token "[mock-fault:...]"). Unknown kinds are kept; handlers ignore what they do not know.
std::vector<Fault> parse_faults(std::string_view spec);
/// The fault spec inside a prompt's "[mock-fault:...]" token, or "".
std::string fault_spec_in_prompt(std::string_view prompt);

struct MockOptions {
    std::string host = "127.0.0.1";
    int port = 8000;                 ///< 0 = any free port
    double generation_s = 2.0;       ///< from accepted to finished
    double queue_s = -1;             ///< time in the provider's queued state; < 0 = generation_s / 4
    std::string faults;              ///< applied to every job, e.g. "poll-500@1"
    std::string required_key;        ///< when set, credentials must equal it; else any non-empty one
    int threads = 64;
};

/// A job as the mock remembers it.
struct Job {
    std::string id;
    std::string provider;
    std::string model;
    std::string prompt;
    std::string image;               ///< first frame bytes (PNG or JPEG) as submitted
    nlohmann::json request;          ///< what the client sent, image elided
    double created = 0;
    int polls = 0;
    bool cancelled = false;
    std::vector<Fault> faults;
    std::string video;               ///< MP4 bytes, made on first need
};

enum class Phase { Queued, Running, Done };

/// Builds a provider's error body: (status, message) -> JSON text in that provider's shape.
using ErrorShape = std::function<std::string(int status, const std::string& message)>;

/// State and helpers shared by the provider handlers. Thread-safe.
class MockContext {
public:
    explicit MockContext(MockOptions options);

    const MockOptions& options() const { return options_; }
    void set_port(int port) { options_.port = port; }
    double now() const;
    std::string new_id(const std::string& prefix);

    std::shared_ptr<Job> add(Job job);
    std::shared_ptr<Job> find(const std::string& id) const;

    /// Where the job is by the clock; "stuck" keeps it running forever, "moderation" and
    /// "job-failed" are decided by the handler when it reports Done.
    Phase phase(const Job& job) const;
    double progress(const Job& job) const;  ///< 0..1

    /// True (and one use consumed) when `kind` applies to this job, counting its own faults,
    /// the server-wide ones and the request's X-Mock-Fault header.
    bool take(Job* job, const httplib::Request& req, std::string_view kind);
    /// Same for a create request, before a job exists: faults keyed by the prompt, so that a
    /// retried create sees the remaining count.
    bool take_for_create(const std::string& prompt, const httplib::Request& req, std::string_view kind);
    /// Faults of a new job: its prompt token plus the X-Mock-Fault header.
    std::vector<Fault> faults_for(const std::string& prompt, const httplib::Request& req) const;

    /// Applies `<step>-429`, `-429-no-retry-after`, `-500`, `-503`, `-malformed`, `-drop` and
    /// `-slow` faults; returns true when the response has been written and the handler must stop.
    bool http_fault(Job* job, const std::string* create_prompt, const httplib::Request& req,
                    httplib::Response& res, const std::string& step, const ErrorShape& shape);

    /// The job's MP4 (built from its first frame once). Throws when the image does not decode.
    const std::string& video_for(Job& job);
    /// Serves a job's video: honours `download-truncate` and `download-*` faults.
    void serve_video(Job& job, const httplib::Request& req, httplib::Response& res, const ErrorShape& shape);
    /// Absolute URL of the unauthenticated file route for a job: http://host:port/files/<id>.mp4
    std::string file_url(const httplib::Request& req, const Job& job) const;

    /// Credentials check against required_key (empty presented key always fails).
    bool key_ok(const std::string& presented) const;

    /// S3-compatible object store for the Luma upload path.
    void put_object(const std::string& key, std::string bytes);
    bool get_object(const std::string& key, std::string& bytes) const;
    bool delete_object(const std::string& key);
    size_t object_count() const;

private:
    MockOptions options_;
    std::vector<Fault> server_faults_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<Job>> jobs_;
    std::map<std::string, int> create_fault_uses_;
    std::map<std::string, std::string> objects_;
    std::map<std::string, std::string> videos_;  ///< by SHA-256 of the first frame's bytes
    std::atomic<unsigned long> counter_{0};
    double start_;
};

// One function per provider (src/mock/<provider>_mock.cpp) adds its routes.
void register_luma(httplib::Server& server, MockContext& ctx);
void register_veo(httplib::Server& server, MockContext& ctx);
void register_kling(httplib::Server& server, MockContext& ctx);
void register_sora(httplib::Server& server, MockContext& ctx);
void register_runway(httplib::Server& server, MockContext& ctx);
void register_s3(httplib::Server& server, MockContext& ctx);
void register_hub(httplib::Server& server, MockContext& ctx);
/// File bodies the mock Hub has served (GET /hub/.../resolve/...), for tests of "nothing to download".
int hub_file_requests();
/// Those of them that asked for a byte range (resumed downloads).
int hub_range_requests();

/// The server: all providers on one port, on its own threads.
class MockServer {
public:
    explicit MockServer(MockOptions options);
    ~MockServer();
    MockServer(const MockServer&) = delete;
    MockServer& operator=(const MockServer&) = delete;

    /// Binds and starts serving; returns the port. Throws Error(Config) when the port is taken.
    int start();
    void stop();
    /// Blocks until stop() (used by `vmeval mock-api`).
    void wait();
    std::string url() const;
    MockContext& context() { return *ctx_; }

private:
    std::unique_ptr<MockContext> ctx_;
    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
    int port_ = 0;
};

}  // namespace vmeval::mock
