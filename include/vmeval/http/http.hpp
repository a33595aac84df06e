#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace vmeval::http {

struct Header {
    std::string name;
    std::string value;
};
using Headers = std::vector<Header>;

/// One part of a multipart/form-data body: a plain field, or a file when `filename` is set.
struct FormPart {
    std::string name;
    std::string value;         ///< field text, or the file's bytes
    std::string filename;      ///< empty for a plain field
    std::string content_type;  ///< for file parts, e.g. "image/png"
};

struct Request {
    std::string method = "GET";
    std::string url;
    Headers headers;
    std::string body;               ///< sent as is; set Content-Type in `headers`
    std::vector<FormPart> form;     ///< when not empty, a multipart/form-data body replaces `body`
    bool follow_redirects = true;
    double connect_timeout_s = 15;
    double timeout_s = 120;         ///< the whole exchange, transfer included
    /// When set, a 2xx body is streamed to a temporary file beside this path and renamed onto it
    /// only when complete; other statuses keep their (short) body in Response::body.
    std::filesystem::path download_to;
    std::uint64_t max_bytes = 2ull << 30;  ///< a larger body fails with Error(Network)
};

struct Response {
    long status = 0;
    Headers headers;              ///< names in lower case
    std::string body;             ///< empty when the body went to Request::download_to
    std::uint64_t bytes = 0;      ///< body bytes received
    /// Value of the first header with this (case-insensitive) name; empty when absent.
    std::string header(std::string_view name) const;
    bool ok() const { return status >= 200 && status < 300; }
};

/// Performs one exchange. Throws Error(Network) when no HTTP answer arrives (DNS, connect, TLS,
/// reset, timeout, size limit); any HTTP status, error or not, is returned.
class Transport {
public:
    virtual ~Transport() = default;
    virtual Response perform(const Request& request) = 0;
};

/// libcurl: TLS verification always on, HTTP/2 where offered, redirects per request.
std::unique_ptr<Transport> make_curl_transport();

/// Monotonic time and sleeping, injectable so that tests of retries and polling run instantly.
class Clock {
public:
    virtual ~Clock() = default;
    virtual double now() = 0;  ///< seconds, monotonic
    /// Sleeps `seconds`; throws Error(Cancelled) early when `cancel` becomes true.
    virtual void sleep(double seconds, const std::atomic<bool>* cancel) = 0;
};
/// The real clock (steady_clock; sleeps wake every 100 ms to check for cancellation).
Clock& system_clock();

/// Retries on 408, 409, 429, 5xx and transport errors, with exponential backoff and full jitter;
/// `Retry-After` / `retry-after-ms` from the server are honoured up to `max_server_wait_s`.
struct RetryPolicy {
    int max_attempts = 5;
    double base_delay_s = 1.0;
    double max_delay_s = 30.0;
    double max_server_wait_s = 120.0;
};

/// Counters a model records in metadata.json.
struct CallStats {
    int requests = 0;
    int retries = 0;
    double waited_s = 0;           ///< time spent sleeping before retries
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
};

/// True for statuses worth retrying: 408, 409, 429 and 5xx.
bool retryable_status(long status);

/// Delay before retry number `attempt` (1-based): the server's Retry-After / retry-after-ms when
/// the response has one (capped), else min(max_delay, base * 2^(attempt-1)) scaled by jitter in [0.5, 1].
double retry_delay(const Response* response, int attempt, const RetryPolicy& policy, std::mt19937_64& rng);

/// Sends requests with the retry policy. Thread-safe when the transport is.
class Client {
public:
    Client(Transport& transport, Clock& clock, RetryPolicy policy = {});
    /// The last response (any status) once it is not retryable or attempts run out. Throws
    /// Error(Network) when every attempt failed without an answer, Error(Cancelled) when cancelled.
    Response send(const Request& request, CallStats* stats = nullptr,
                  const std::atomic<bool>* cancel = nullptr);
    Clock& clock() { return clock_; }

private:
    Transport& transport_;
    Clock& clock_;
    RetryPolicy policy_;
};

/// Process-wide list of secret values (API keys, tokens) that must never be printed. Every log
/// line passes through redact(); error messages built from responses should too.
void add_secret(const std::string& value);
/// `text` with every registered secret (of 4+ characters) replaced by "[REDACTED]".
std::string redact(std::string_view text);

/// Short description of a request for logs and errors: "POST https://host/path" (no query string,
/// which may carry a key).
std::string describe(const Request& request);

}  // namespace vmeval::http
