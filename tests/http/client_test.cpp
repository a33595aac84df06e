#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "vmeval/core/error.hpp"
#include "vmeval/http/http.hpp"

namespace {

using vmeval::Error;
using vmeval::ErrorCode;
namespace http = vmeval::http;

/// Time stands still except when sleep() advances it, and every requested delay is recorded.
class FakeClock : public http::Clock {
public:
    double now() override { return now_; }
    void sleep(double seconds, const std::atomic<bool>* cancel) override {
        if (cancel != nullptr && cancel->load()) throw Error(ErrorCode::Cancelled, "interrupted");
        delays.push_back(seconds);
        now_ += seconds;
        // Lets a test play the user pressing Ctrl-C in the middle of a wait.
        if (interrupt != nullptr) {
            interrupt->store(true);
            throw Error(ErrorCode::Cancelled, "interrupted");
        }
    }

    std::vector<double> delays;
    std::atomic<bool>* interrupt = nullptr;

private:
    double now_ = 1000;
};

/// Plays a script of answers and failures, recording what it was asked.
class FakeTransport : public http::Transport {
public:
    http::Response perform(const http::Request& request) override {
        requests.push_back(request);
        if (on_perform) on_perform();
        if (script.empty()) throw std::logic_error("FakeTransport: script exhausted");
        Step step = script.front();
        script.pop_front();
        if (!step.response) throw Error(step.code, step.error);
        return *step.response;
    }

    FakeTransport& answer(long status, http::Headers headers = {}, std::string body = "") {
        http::Response r;
        r.status = status;
        r.headers = std::move(headers);
        r.bytes = body.size();
        r.body = std::move(body);
        script.push_back(Step{r, "", ErrorCode::Network});
        return *this;
    }
    FakeTransport& fail(std::string message, ErrorCode code = ErrorCode::Network) {
        script.push_back(Step{std::nullopt, std::move(message), code});
        return *this;
    }

    std::vector<http::Request> requests;
    std::function<void()> on_perform;

private:
    struct Step {
        std::optional<http::Response> response;
        std::string error;
        ErrorCode code;
    };
    std::deque<Step> script;
};

http::Request get(std::string url = "https://api.example.com/v1/jobs/1") {
    http::Request r;
    r.url = std::move(url);
    return r;
}

std::string http_date(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

template <typename F>
ErrorCode code_of(F&& f, std::string* message = nullptr) {
    try {
        f();
    } catch (const Error& e) {
        if (message != nullptr) *message = e.what();
        return e.code();
    }
    ADD_FAILURE() << "no vmeval::Error thrown";
    return ErrorCode::Internal;
}

}  // namespace

TEST(RetryableStatus, Table) {
    for (long s : {408L, 409L, 429L, 500L, 502L, 503L, 504L, 599L}) {
        EXPECT_TRUE(http::retryable_status(s)) << s;
    }
    for (long s : {200L, 201L, 301L, 400L, 401L, 403L, 404L, 422L, 600L}) {
        EXPECT_FALSE(http::retryable_status(s)) << s;
    }
}

TEST(ResponseHeader, CaseInsensitiveFirstMatch) {
    http::Response r;
    r.headers = {{"retry-after", "3"}, {"x-a", "1"}, {"x-a", "2"}};
    EXPECT_EQ(r.header("Retry-After"), "3");
    EXPECT_EQ(r.header("X-A"), "1");
    EXPECT_EQ(r.header("missing"), "");
}

TEST(RetryDelay, ExponentialBackoffWithJitterCapped) {
    http::RetryPolicy policy;
    policy.base_delay_s = 1;
    policy.max_delay_s = 8;
    std::mt19937_64 rng(42);
    const double expected[] = {1, 2, 4, 8, 8, 8};
    for (int attempt = 1; attempt <= 6; ++attempt) {
        for (int i = 0; i < 50; ++i) {
            double d = http::retry_delay(nullptr, attempt, policy, rng);
            EXPECT_GE(d, 0.5 * expected[attempt - 1]);
            EXPECT_LE(d, expected[attempt - 1]);
        }
    }
    // Absurd attempt numbers must not overflow into inf or NaN.
    double d = http::retry_delay(nullptr, 100000, policy, rng);
    EXPECT_GE(d, 4.0);
    EXPECT_LE(d, 8.0);
}

TEST(RetryDelay, ServerHeaders) {
    http::RetryPolicy policy;
    policy.max_server_wait_s = 60;
    std::mt19937_64 rng(1);
    http::Response r;
    r.headers = {{"retry-after", "7"}};
    EXPECT_DOUBLE_EQ(http::retry_delay(&r, 1, policy, rng), 7.0);
    r.headers = {{"retry-after", "2.5"}};
    EXPECT_DOUBLE_EQ(http::retry_delay(&r, 3, policy, rng), 2.5);
    r.headers = {{"retry-after", "3"}, {"retry-after-ms", "250"}};
    EXPECT_DOUBLE_EQ(http::retry_delay(&r, 1, policy, rng), 0.25);
    r.headers = {{"retry-after", "100000"}};
    EXPECT_DOUBLE_EQ(http::retry_delay(&r, 1, policy, rng), 60.0);
    r.headers = {{"retry-after", http_date(std::time(nullptr) - 100)}};
    EXPECT_DOUBLE_EQ(http::retry_delay(&r, 1, policy, rng), 0.0);
    // Garbage falls back to the backoff.
    r.headers = {{"retry-after", "soon"}};
    double d = http::retry_delay(&r, 1, policy, rng);
    EXPECT_GE(d, 0.5);
    EXPECT_LE(d, 1.0);
    r.headers = {{"retry-after", "-5"}};
    d = http::retry_delay(&r, 1, policy, rng);
    EXPECT_GE(d, 0.5);
    EXPECT_LE(d, 1.0);
}

TEST(Client, RetriesOn429ThenSucceeds) {
    FakeTransport t;
    FakeClock clock;
    t.answer(429).answer(200, {}, "done");
    http::Client client(t, clock);
    http::Response r = client.send(get());
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "done");
    EXPECT_EQ(t.requests.size(), 2u);
    ASSERT_EQ(clock.delays.size(), 1u);
    EXPECT_GE(clock.delays[0], 0.5);
    EXPECT_LE(clock.delays[0], 1.0);
}

TEST(Client, HonoursRetryAfterSeconds) {
    FakeTransport t;
    FakeClock clock;
    t.answer(503, {{"retry-after", "7"}}).answer(200);
    http::Client client(t, clock);
    EXPECT_EQ(client.send(get()).status, 200);
    ASSERT_EQ(clock.delays.size(), 1u);
    EXPECT_DOUBLE_EQ(clock.delays[0], 7.0);
}

TEST(Client, HonoursRetryAfterMs) {
    FakeTransport t;
    FakeClock clock;
    t.answer(429, {{"retry-after-ms", "1500"}}).answer(200);
    http::Client client(t, clock);
    EXPECT_EQ(client.send(get()).status, 200);
    ASSERT_EQ(clock.delays.size(), 1u);
    EXPECT_DOUBLE_EQ(clock.delays[0], 1.5);
}

TEST(Client, HonoursRetryAfterHttpDate) {
    FakeTransport t;
    FakeClock clock;
    t.answer(503, {{"retry-after", http_date(std::time(nullptr) + 30)}}).answer(200);
    http::Client client(t, clock);
    EXPECT_EQ(client.send(get()).status, 200);
    ASSERT_EQ(clock.delays.size(), 1u);
    // Whole seconds on the wire, and the test may straddle a second boundary.
    EXPECT_GE(clock.delays[0], 28.0);
    EXPECT_LE(clock.delays[0], 30.0);
}

TEST(Client, CapsServerWait) {
    FakeTransport t;
    FakeClock clock;
    t.answer(429, {{"retry-after", "3600"}}).answer(200);
    http::RetryPolicy policy;
    policy.max_server_wait_s = 45;
    http::Client client(t, clock, policy);
    EXPECT_EQ(client.send(get()).status, 200);
    ASSERT_EQ(clock.delays.size(), 1u);
    EXPECT_DOUBLE_EQ(clock.delays[0], 45.0);
}

TEST(Client, DoesNotRetryClientErrors) {
    FakeTransport t;
    FakeClock clock;
    t.answer(400, {}, "{\"error\":\"bad prompt\"}");
    http::Client client(t, clock);
    http::Response r = client.send(get());
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, "{\"error\":\"bad prompt\"}");
    EXPECT_EQ(t.requests.size(), 1u);
    EXPECT_TRUE(clock.delays.empty());
}

TEST(Client, XShouldRetryOverridesStatus) {
    {
        FakeTransport t;
        FakeClock clock;
        t.answer(400, {{"x-should-retry", "true"}}).answer(200);
        http::Client client(t, clock);
        EXPECT_EQ(client.send(get()).status, 200);
        EXPECT_EQ(t.requests.size(), 2u);
    }
    {
        FakeTransport t;
        FakeClock clock;
        t.answer(503, {{"x-should-retry", "False"}});
        http::Client client(t, clock);
        EXPECT_EQ(client.send(get()).status, 503);
        EXPECT_EQ(t.requests.size(), 1u);
        EXPECT_TRUE(clock.delays.empty());
    }
    {
        // A success is final whatever the header says.
        FakeTransport t;
        FakeClock clock;
        t.answer(200, {{"x-should-retry", "true"}});
        http::Client client(t, clock);
        EXPECT_EQ(client.send(get()).status, 200);
        EXPECT_EQ(t.requests.size(), 1u);
    }
}

TEST(Client, ExhaustedAttemptsReturnLastResponse) {
    FakeTransport t;
    FakeClock clock;
    t.answer(500, {}, "a").answer(502, {}, "b").answer(503, {}, "c");
    http::RetryPolicy policy;
    policy.max_attempts = 3;
    http::Client client(t, clock, policy);
    http::CallStats stats;
    http::Response r = client.send(get(), &stats);
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.body, "c");
    EXPECT_EQ(t.requests.size(), 3u);
    EXPECT_EQ(clock.delays.size(), 2u);
    EXPECT_EQ(stats.requests, 3);
    EXPECT_EQ(stats.retries, 2);
}

TEST(Client, AnswerBeatsLaterNetworkErrors) {
    FakeTransport t;
    FakeClock clock;
    t.answer(503, {}, "busy").fail("GET https://api.example.com/v1/jobs/1: reset");
    http::RetryPolicy policy;
    policy.max_attempts = 2;
    http::Client client(t, clock, policy);
    http::Response r = client.send(get());
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.body, "busy");
}

TEST(Client, RetriesNetworkErrorThenSucceeds) {
    FakeTransport t;
    FakeClock clock;
    t.fail("GET https://api.example.com/v1/jobs/1: Connection reset").answer(200, {}, "ok");
    http::Client client(t, clock);
    http::Response r = client.send(get());
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(t.requests.size(), 2u);
    ASSERT_EQ(clock.delays.size(), 1u);
    EXPECT_GE(clock.delays[0], 0.5);
    EXPECT_LE(clock.delays[0], 1.0);
}

TEST(Client, AllNetworkErrorsThrowWithAttemptCount) {
    FakeTransport t;
    FakeClock clock;
    for (int i = 0; i < 4; ++i) t.fail("GET https://api.example.com/v1/jobs/1: Connection refused");
    http::RetryPolicy policy;
    policy.max_attempts = 4;
    policy.base_delay_s = 2;
    policy.max_delay_s = 3;
    http::Client client(t, clock, policy);
    std::string message;
    EXPECT_EQ(code_of([&] { client.send(get()); }, &message), ErrorCode::Network);
    EXPECT_NE(message.find("Connection refused"), std::string::npos) << message;
    EXPECT_NE(message.find("4 attempts"), std::string::npos) << message;
    EXPECT_EQ(t.requests.size(), 4u);
    ASSERT_EQ(clock.delays.size(), 3u);
    EXPECT_GE(clock.delays[0], 1.0);
    EXPECT_LE(clock.delays[0], 2.0);
    EXPECT_GE(clock.delays[1], 1.5);  // min(3, 4) * [0.5, 1]
    EXPECT_LE(clock.delays[1], 3.0);
}

TEST(Client, OtherErrorsAreNotRetried) {
    FakeTransport t;
    FakeClock clock;
    t.fail("cannot write /x.part-1: No space left on device", ErrorCode::Io).answer(200);
    http::Client client(t, clock);
    EXPECT_EQ(code_of([&] { client.send(get()); }), ErrorCode::Io);
    EXPECT_EQ(t.requests.size(), 1u);
}

TEST(Client, CancelDuringSleepThrowsCancelled) {
    FakeTransport t;
    FakeClock clock;
    std::atomic<bool> cancel{false};
    clock.interrupt = &cancel;
    t.answer(503).answer(200);
    http::Client client(t, clock);
    EXPECT_EQ(code_of([&] { client.send(get(), nullptr, &cancel); }), ErrorCode::Cancelled);
    EXPECT_EQ(t.requests.size(), 1u);
}

TEST(Client, CancelDuringRequestStopsRetries) {
    FakeTransport t;
    FakeClock clock;
    std::atomic<bool> cancel{false};
    t.on_perform = [&] { cancel = true; };
    t.answer(503);
    http::Client client(t, clock);
    EXPECT_EQ(code_of([&] { client.send(get(), nullptr, &cancel); }), ErrorCode::Cancelled);
    EXPECT_EQ(t.requests.size(), 1u);
    EXPECT_TRUE(clock.delays.empty());

    FakeTransport t2;
    t2.on_perform = [&] { cancel = true; };
    t2.fail("GET https://api.example.com/v1/jobs/1: reset");
    http::Client client2(t2, clock);
    cancel = false;
    EXPECT_EQ(code_of([&] { client2.send(get(), nullptr, &cancel); }), ErrorCode::Cancelled);
    EXPECT_EQ(t2.requests.size(), 1u);
}

TEST(Client, AlreadyCancelledSendsNothing) {
    FakeTransport t;
    FakeClock clock;
    std::atomic<bool> cancel{true};
    http::Client client(t, clock);
    EXPECT_EQ(code_of([&] { client.send(get(), nullptr, &cancel); }), ErrorCode::Cancelled);
    EXPECT_TRUE(t.requests.empty());
}

TEST(Client, CountsStats) {
    FakeTransport t;
    FakeClock clock;
    t.answer(429, {{"retry-after", "2"}}, "slow down")
        .fail("POST https://api.example.com/v1/jobs: reset")
        .answer(201, {}, "{\"id\":\"j1\"}");
    http::Client client(t, clock);
    http::Request req = get("https://api.example.com/v1/jobs");
    req.method = "POST";
    req.body = "{\"prompt\":\"x\"}";
    http::CallStats stats;
    http::Response r = client.send(req, &stats);
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(stats.requests, 3);
    EXPECT_EQ(stats.retries, 2);
    ASSERT_EQ(clock.delays.size(), 2u);
    EXPECT_DOUBLE_EQ(stats.waited_s, clock.delays[0] + clock.delays[1]);
    EXPECT_DOUBLE_EQ(clock.delays[0], 2.0);
    EXPECT_EQ(stats.bytes_sent, 3 * req.body.size());
    EXPECT_EQ(stats.bytes_received, std::string("slow down").size() + r.body.size());

    // Form bodies count their parts; stats accumulate across calls.
    http::Request form = get("https://api.example.com/v1/uploads");
    form.method = "POST";
    form.form = {{"prompt", "abc", "", ""}, {"image", std::string(100, 'x'), "a.png", "image/png"}};
    t.answer(200);
    client.send(form, &stats);
    EXPECT_EQ(stats.requests, 4);
    EXPECT_EQ(stats.bytes_sent, 3 * req.body.size() + 103);
}

TEST(SystemClock, SleepsAndIsMonotonic) {
    http::Clock& clock = http::system_clock();
    EXPECT_EQ(&clock, &http::system_clock());
    double t0 = clock.now();
    clock.sleep(0.05, nullptr);
    double t1 = clock.now();
    EXPECT_GE(t1 - t0, 0.05);
    EXPECT_LT(t1 - t0, 0.5);
    clock.sleep(-1, nullptr);  // nothing to wait for
}

TEST(SystemClock, SleepWakesOnCancel) {
    http::Clock& clock = http::system_clock();
    std::atomic<bool> cancel{false};
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        cancel = true;
    });
    double t0 = clock.now();
    EXPECT_EQ(code_of([&] { clock.sleep(10, &cancel); }), ErrorCode::Cancelled);
    canceller.join();
    EXPECT_LT(clock.now() - t0, 0.5);
}
