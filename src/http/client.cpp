#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <optional>
#include <string>

#include "vmeval/core/error.hpp"
#include "vmeval/http/http.hpp"

namespace vmeval::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

/// A finite, non-negative number filling the whole of `text`; nullopt otherwise.
std::optional<double> parse_non_negative(std::string_view text) {
    std::string s(trim(text));
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v) || v < 0) return std::nullopt;
    return v;
}

/// Seconds since the epoch of an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). Parsed by hand
/// rather than with strptime("%a %b"), which follows the process locale.
std::optional<std::time_t> parse_http_date(std::string_view text) {
    static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::string s(trim(text));
    char weekday[4] = {};
    char month[4] = {};
    int day = 0, year = 0, hour = 0, minute = 0, second = 0, consumed = 0;
    if (std::sscanf(s.c_str(), "%3[A-Za-z], %d %3[A-Za-z] %d %d:%d:%d GMT%n", weekday, &day, month,
                    &year, &hour, &minute, &second, &consumed) != 7 ||
        static_cast<std::size_t>(consumed) != s.size()) {
        return std::nullopt;
    }
    int mon = -1;
    for (int i = 0; i < 12; ++i) {
        if (iequals(month, kMonths[i])) mon = i;
    }
    if (mon < 0 || day < 1 || day > 31 || year < 1970 || hour > 23 || minute > 59 || second > 60) {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    std::time_t t = ::timegm(&tm);
    if (t == static_cast<std::time_t>(-1)) return std::nullopt;
    return t;
}

/// The wait the server asked for, in seconds, before capping; nullopt when it asked for none.
std::optional<double> server_delay(const Response& response) {
    // retry-after-ms (OpenAI and others) is finer than Retry-After, so it wins when both are sent.
    if (auto ms = parse_non_negative(response.header("retry-after-ms"))) return *ms / 1000.0;
    std::string after = response.header("retry-after");
    if (after.empty()) return std::nullopt;
    if (auto seconds = parse_non_negative(after)) return *seconds;
    if (auto date = parse_http_date(after)) {
        // An absolute date can only be compared with the wall clock, not the injectable one.
        return std::max(0.0, std::difftime(*date, std::time(nullptr)));
    }
    return std::nullopt;
}

std::uint64_t request_bytes(const Request& request) {
    if (request.form.empty()) return request.body.size();
    std::uint64_t total = 0;
    for (const FormPart& part : request.form) total += part.value.size();
    return total;
}

void check_cancel(const std::atomic<bool>* cancel) {
    if (cancel != nullptr && cancel->load()) throw Error(ErrorCode::Cancelled, "interrupted");
}

std::string format_delay(double seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
    return buf;
}

}  // namespace

std::string Response::header(std::string_view name) const {
    for (const Header& h : headers) {
        if (iequals(h.name, name)) return h.value;
    }
    return {};
}

bool retryable_status(long status) {
    return status == 408 || status == 409 || status == 429 || (status >= 500 && status <= 599);
}

double retry_delay(const Response* response, int attempt, const RetryPolicy& policy,
                   std::mt19937_64& rng) {
    if (response != nullptr) {
        if (auto wait = server_delay(*response)) {
            return std::min(*wait, std::max(0.0, policy.max_server_wait_s));
        }
    }
    // ldexp overflows to infinity for absurd attempt numbers, which min() then caps.
    double backoff = std::ldexp(std::max(0.0, policy.base_delay_s), std::max(1, attempt) - 1);
    backoff = std::min(std::max(0.0, policy.max_delay_s), backoff);
    // Jitter spreads the retries of parallel workers that were throttled at the same moment.
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return backoff * jitter(rng);
}

Client::Client(Transport& transport, Clock& clock, RetryPolicy policy)
    : transport_(transport), clock_(clock), policy_(policy) {}

Response Client::send(const Request& request, CallStats* stats, const std::atomic<bool>* cancel) {
    // A generator per call keeps send() free of shared mutable state.
    std::mt19937_64 rng{std::random_device{}()};
    const int max_attempts = std::max(1, policy_.max_attempts);
    const std::string what = describe(request);
    const std::uint64_t sent_per_attempt = request_bytes(request);

    std::optional<Response> last_response;
    std::string last_error;
    for (int attempt = 1;; ++attempt) {
        // A cancelled batch must not start new exchanges (each may bill the provider).
        check_cancel(cancel);
        if (stats != nullptr) {
            stats->requests++;
            stats->bytes_sent += sent_per_attempt;
        }

        std::optional<Response> response;
        try {
            response = transport_.perform(request);
        } catch (const Error& e) {
            if (e.code() != ErrorCode::Network) throw;
            if (cancel != nullptr && cancel->load()) {
                throw Error(ErrorCode::Cancelled,
                            redact(std::string("interrupted (") + e.what() + ")"));
            }
            last_error = e.what();
        }

        const bool answered = response.has_value();
        std::string outcome;
        bool expected = false;  // throttling is routine: log it quietly
        if (response) {
            if (stats != nullptr) stats->bytes_received += response->bytes;
            bool retry = retryable_status(response->status);
            std::string hint = std::string(trim(response->header("x-should-retry")));
            // The server knows better than the status table: honour its explicit verdict (a
            // success is never worth repeating, whatever it says).
            if (iequals(hint, "true") && !response->ok()) retry = true;
            if (iequals(hint, "false")) retry = false;
            if (!retry) return std::move(*response);
            expected =
                response->status == 429 || response->status == 408 || response->status == 409;
            outcome = what + ": HTTP " + std::to_string(response->status);
            last_response = std::move(response);
        } else {
            outcome = last_error;  // the transport's message already names the request
        }

        if (attempt >= max_attempts) break;

        check_cancel(cancel);
        double delay = retry_delay(answered ? &*last_response : nullptr, attempt, policy_, rng);
        std::string line = redact(outcome + "; retry " + std::to_string(attempt) + "/" +
                                  std::to_string(max_attempts - 1) + " in " + format_delay(delay));
        if (expected) {
            spdlog::debug("{}", line);
        } else {
            spdlog::warn("{}", line);
        }
        if (stats != nullptr) {
            stats->retries++;
            stats->waited_s += delay;
        }
        clock_.sleep(delay, cancel);
    }

    // An answer, even an error status, tells the caller more than a later connection failure.
    if (last_response) return std::move(*last_response);
    throw Error(ErrorCode::Network,
                redact(last_error + " (gave up after " + std::to_string(max_attempts) +
                       (max_attempts == 1 ? " attempt)" : " attempts)")));
}

}  // namespace vmeval::http
