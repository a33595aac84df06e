#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "vmeval/http/http.hpp"

namespace {

namespace http = vmeval::http;

http::Request request(std::string method, std::string url) {
    http::Request r;
    r.method = std::move(method);
    r.url = std::move(url);
    return r;
}

}  // namespace

// The secret list is process-wide, so every test uses values no other test registers.

TEST(Redact, ReplacesEveryOccurrence) {
    http::add_secret("sk-live-111aaa");
    EXPECT_EQ(http::redact("key sk-live-111aaa and again sk-live-111aaa."),
              "key [REDACTED] and again [REDACTED].");
    EXPECT_EQ(http::redact("nothing secret here"), "nothing secret here");
    EXPECT_EQ(http::redact(""), "");
}

TEST(Redact, IgnoresShortValuesAndDuplicates) {
    http::add_secret("");
    http::add_secret("a");
    http::add_secret("xyz");
    EXPECT_EQ(http::redact("a xyz b"), "a xyz b");
    http::add_secret("tok-2222");
    http::add_secret("tok-2222");
    EXPECT_EQ(http::redact("Bearer tok-2222"), "Bearer [REDACTED]");
}

TEST(Redact, OverlappingAndNestedSecrets) {
    // Overlapping: neither may leave its tail visible after the other is masked.
    http::add_secret("abcdef-333");
    http::add_secret("ef-333-ghij");
    EXPECT_EQ(http::redact("<abcdef-333-ghij>"), "<[REDACTED]>");
    // Nested: the longer one is masked whole.
    http::add_secret("nest-4444");
    http::add_secret("prefix-nest-4444-suffix");
    EXPECT_EQ(http::redact("x prefix-nest-4444-suffix y nest-4444 z"),
              "x [REDACTED] y [REDACTED] z");
    // Adjacent occurrences become one mask.
    EXPECT_EQ(http::redact("nest-4444nest-4444"), "[REDACTED]");
}

TEST(Redact, BinarySafe) {
    http::add_secret(std::string("bin\0-5555", 9));
    std::string text = std::string("a bin\0-5555 b", 13);
    EXPECT_EQ(http::redact(text), "a [REDACTED] b");
}

TEST(Redact, ConcurrentUse) {
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([i] {
            std::string secret = "thread-secret-" + std::to_string(i) + "-6666";
            for (int k = 0; k < 200; ++k) {
                http::add_secret(secret);
                EXPECT_EQ(http::redact("x" + secret + "y"), "x[REDACTED]y");
            }
        });
    }
    for (auto& t : threads) t.join();
}

TEST(Describe, StripsQueryFragmentAndUserinfo) {
    EXPECT_EQ(http::describe(request("POST", "https://api.example.com/v1/jobs?key=abc&x=1")),
              "POST https://api.example.com/v1/jobs");
    EXPECT_EQ(http::describe(request("GET", "https://user:pa55@host.example:8443/a/b#frag")),
              "GET https://host.example:8443/a/b");
    EXPECT_EQ(http::describe(request("GET", "https://user@host.example?token=1")),
              "GET https://host.example");
    EXPECT_EQ(http::describe(request("DELETE", "http://127.0.0.1:8080/jobs/7")),
              "DELETE http://127.0.0.1:8080/jobs/7");
    // An '@' in the path is not userinfo.
    EXPECT_EQ(http::describe(request("GET", "https://host/users/@me")),
              "GET https://host/users/@me");
    EXPECT_EQ(http::describe(request("", "https://host/x")), "GET https://host/x");
}

TEST(Describe, RedactsSecretsInThePath) {
    http::add_secret("pathkey-7777");
    EXPECT_EQ(http::describe(request("GET", "https://host/bot/pathkey-7777/status")),
              "GET https://host/bot/[REDACTED]/status");
}
