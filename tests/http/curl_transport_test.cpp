#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/http/http.hpp"

namespace {

using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::testkit::read_text;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_text;
namespace fs = std::filesystem;
namespace http = vmeval::http;

using Clock = std::chrono::steady_clock;

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
    return s;
}

std::vector<std::string> entries(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    return names;
}

/// An httplib server on an ephemeral loopback port, serving on its own thread.
class LoopbackServer {
public:
    LoopbackServer() {
        // A developer's proxy settings must not capture loopback traffic.
        ::setenv("no_proxy", "127.0.0.1,localhost", 1);
    }
    ~LoopbackServer() { stop(); }

    httplib::Server& routes() { return server_; }

    void start() {
        port_ = server_.bind_to_any_port("127.0.0.1");
        if (port_ <= 0) throw std::runtime_error("cannot bind a loopback port");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        auto deadline = Clock::now() + std::chrono::seconds(5);
        while (!server_.is_running()) {
            if (Clock::now() > deadline) throw std::runtime_error("server did not start");
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }

    void stop() {
        if (!thread_.joinable()) return;
        server_.stop();
        thread_.join();
    }

    int port() const { return port_; }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

private:
    httplib::Server server_;
    std::thread thread_;
    int port_ = 0;
};

/// A socket fd closed on destruction.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

/// Answers one connection with `reply` verbatim, then closes it: for answers httplib will not
/// produce, like a Content-Length the body never reaches.
class RawServer {
public:
    explicit RawServer(std::string reply) : listener_(::socket(AF_INET, SOCK_STREAM, 0)) {
        if (listener_.get() < 0) throw std::runtime_error("socket");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener_.get(), 1) != 0) {
            throw std::runtime_error("bind/listen");
        }
        socklen_t len = sizeof addr;
        ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this, reply = std::move(reply)] {
            Fd conn(::accept(listener_.get(), nullptr, nullptr));
            if (conn.get() < 0) return;
            std::string request;
            char buf[4096];
            while (request.find("\r\n\r\n") == std::string::npos) {
                ssize_t n = ::recv(conn.get(), buf, sizeof buf, 0);
                if (n <= 0) return;
                request.append(buf, static_cast<std::size_t>(n));
            }
            ::send(conn.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
        });
    }
    ~RawServer() {
        ::shutdown(listener_.get(), SHUT_RDWR);  // wakes accept() if no client came
        thread_.join();
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

private:
    Fd listener_;
    int port_ = 0;
    std::thread thread_;
};

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

class CurlTransportTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto& r = server_.routes();
        auto echo = [](const httplib::Request& req, httplib::Response& res) {
            res.set_header("X-Reply", "yes");
            res.set_content("method=" + req.method + "\nx-test=" + req.get_header_value("X-Test") +
                                "\ncontent-type=" + req.get_header_value("Content-Type") +
                                "\nuser-agent=" + req.get_header_value("User-Agent") +
                                "\nbody=" + req.body,
                            "application/octet-stream");
        };
        r.Get("/echo", echo);
        r.Post("/echo", echo);
        r.Put("/echo", echo);
        r.Delete("/echo", echo);
        r.Patch("/echo", echo);
        r.Post("/form", [](const httplib::Request& req, httplib::Response& res) {
            if (!req.is_multipart_form_data() || !req.has_file("image") ||
                !req.has_file("prompt")) {
                res.status = 400;
                return;
            }
            auto image = req.get_file_value("image");
            auto prompt = req.get_file_value("prompt");
            res.set_content("prompt=" + prompt.content + "\nfilename=" + image.filename +
                                "\ntype=" + image.content_type +
                                "\nsize=" + std::to_string(image.content.size()) +
                                "\nmatch=" + (image.content == pattern(5000) ? "1" : "0"),
                            "text/plain");
        });
        r.Get("/file", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(pattern(100 * 1024), "application/octet-stream");
        });
        r.Get("/empty", [](const httplib::Request&, httplib::Response& res) {
            res.status = 200;
            res.set_content("", "application/octet-stream");
        });
        r.Get("/text", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(std::string(200 * 1024, 'a'), "text/plain");
        });
        r.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
            res.status = 404;
            res.set_content("{\"error\":\"no such video\"}", "application/json");
        });
        r.Get("/redirect", [](const httplib::Request&, httplib::Response& res) {
            res.set_header("X-Hop", "first");
            res.set_redirect("/target");
        });
        r.Get("/target", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("target", "application/octet-stream");
        });
        r.Get("/slow", [this](const httplib::Request&, httplib::Response& res) {
            // Sleeps 2 s unless the test is over, so that stopping the server stays fast.
            auto deadline = Clock::now() + std::chrono::seconds(2);
            while (!release_ && Clock::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            res.set_content("late", "text/plain");
        });
        server_.start();
    }

    void TearDown() override {
        release_ = true;
        server_.stop();
    }

    http::Request request(const std::string& method, const std::string& path) {
        http::Request r;
        r.method = method;
        r.url = server_.url(path);
        r.timeout_s = 10;
        r.connect_timeout_s = 5;
        return r;
    }

    LoopbackServer server_;
    std::atomic<bool> release_{false};
    std::unique_ptr<http::Transport> transport_ = http::make_curl_transport();
};

}  // namespace

TEST_F(CurlTransportTest, GetRoundTripsHeaders) {
    auto req = request("GET", "/echo");
    req.headers = {{"X-Test", "hello"}};
    http::Response r = transport_->perform(req);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.ok());
    EXPECT_NE(r.body.find("method=GET\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("x-test=hello\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("user-agent=vmeval/"), std::string::npos) << r.body;
    EXPECT_EQ(r.header("X-Reply"), "yes");
    for (const auto& h : r.headers) {
        for (char c : h.name) EXPECT_FALSE(c >= 'A' && c <= 'Z') << h.name;
    }
    EXPECT_EQ(r.bytes, r.body.size());
}

TEST_F(CurlTransportTest, PostBodyIsBinarySafe) {
    auto req = request("POST", "/echo");
    req.body = std::string("{\"a\":1}\0tail\xff", 13);
    req.headers = {{"Content-Type", "application/json"}};
    http::Response r = transport_->perform(req);
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("method=POST\n"), std::string::npos);
    EXPECT_NE(r.body.find("content-type=application/json\n"), std::string::npos);
    EXPECT_NE(r.body.find("body=" + req.body), std::string::npos);
}

TEST_F(CurlTransportTest, CustomMethods) {
    auto del = request("DELETE", "/echo?id=1");
    http::Response r = transport_->perform(del);
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("method=DELETE\n"), std::string::npos) << r.body;

    auto put = request("put", "/echo");
    put.body = "new";
    r = transport_->perform(put);
    EXPECT_NE(r.body.find("method=PUT\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("body=new"), std::string::npos) << r.body;

    auto patch = request("PATCH", "/echo");
    r = transport_->perform(patch);
    EXPECT_NE(r.body.find("method=PATCH\n"), std::string::npos) << r.body;

    auto head = request("HEAD", "/file");
    r = transport_->perform(head);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body.empty());
}

TEST_F(CurlTransportTest, MultipartFormWithFile) {
    auto req = request("POST", "/form");
    req.form = {{"prompt", "a cat jumps", "", ""},
                {"image", pattern(5000), "first_frame.png", "image/png"}};
    http::Response r = transport_->perform(req);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body,
              "prompt=a cat jumps\nfilename=first_frame.png\ntype=image/png\nsize=5000\nmatch=1");
}

TEST_F(CurlTransportTest, DecodesCompressedBodies) {
    http::Response r = transport_->perform(request("GET", "/text"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, std::string(200 * 1024, 'a'));
    EXPECT_EQ(r.bytes, 200u * 1024);
}

TEST_F(CurlTransportTest, DownloadWritesFileAtomically) {
    TempDir dir;
    fs::path target = dir / "video.mp4";
    write_text(target, "old content");
    auto req = request("GET", "/file");
    req.download_to = target;
    http::Response r = transport_->perform(req);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.bytes, 100u * 1024);
    EXPECT_EQ(read_text(target), pattern(100 * 1024));
    EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"video.mp4"});
}

TEST_F(CurlTransportTest, DownloadOfEmptyBodyCreatesEmptyFile) {
    TempDir dir;
    auto req = request("GET", "/empty");
    req.download_to = dir / "empty.bin";
    http::Response r = transport_->perform(req);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(fs::exists(req.download_to));
    EXPECT_EQ(fs::file_size(req.download_to), 0u);
    EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"empty.bin"});
}

TEST_F(CurlTransportTest, DownloadErrorStatusKeepsBodyInMemory) {
    TempDir dir;
    auto req = request("GET", "/missing");
    req.download_to = dir / "video.mp4";
    http::Response r = transport_->perform(req);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body, "{\"error\":\"no such video\"}");
    EXPECT_TRUE(entries(dir.path()).empty());

    // An earlier file at the target is left alone.
    write_text(req.download_to, "keep me");
    r = transport_->perform(req);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(read_text(req.download_to), "keep me");
    EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"video.mp4"});
}

TEST_F(CurlTransportTest, FollowsRedirectsWhenAsked) {
    auto req = request("GET", "/redirect");
    http::Response r = transport_->perform(req);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "target");
    // Only the final response's headers are reported.
    EXPECT_EQ(r.header("x-hop"), "");
    EXPECT_EQ(r.header("location"), "");

    req.follow_redirects = false;
    r = transport_->perform(req);
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.header("location"), "/target");
    EXPECT_EQ(r.header("x-hop"), "first");
}

TEST_F(CurlTransportTest, DownloadFollowsRedirect) {
    // Providers hand out result links that redirect to a storage bucket.
    TempDir dir;
    auto req = request("GET", "/redirect");
    req.download_to = dir / "video.mp4";
    http::Response r = transport_->perform(req);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(read_text(req.download_to), "target");
    EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"video.mp4"});
}

TEST_F(CurlTransportTest, LargeUpload) {
    auto req = request("POST", "/echo");
    req.body = pattern(3 * 1024 * 1024);
    req.headers = {{"Content-Type", "application/octet-stream"}};
    http::Response r = transport_->perform(req);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.substr(r.body.find("body=") + 5), req.body);
}

TEST_F(CurlTransportTest, MaxBytesExceededFailsAndLeavesNoFile) {
    TempDir dir;
    auto req = request("GET", "/file");
    req.max_bytes = 1000;
    std::string message;
    EXPECT_EQ(code_of([&] { transport_->perform(req); }, &message), ErrorCode::Network);
    EXPECT_NE(message.find("larger than 1000 bytes"), std::string::npos) << message;

    req.download_to = dir / "video.mp4";
    EXPECT_EQ(code_of([&] { transport_->perform(req); }, &message), ErrorCode::Network);
    EXPECT_TRUE(entries(dir.path()).empty());

    // Exactly at the limit is fine.
    req.max_bytes = 100 * 1024;
    EXPECT_EQ(transport_->perform(req).status, 200);
}

TEST_F(CurlTransportTest, ConnectionRefusedHidesQueryString) {
    LoopbackServer gone;
    gone.start();
    std::string url = gone.url("/v1/jobs?key=SECRET-QUERY-KEY-123");
    gone.stop();
    http::Request req;
    req.url = url;
    req.connect_timeout_s = 2;
    req.headers = {{"Authorization", "Bearer SECRET-HEADER-456"}};
    std::string message;
    EXPECT_EQ(code_of([&] { transport_->perform(req); }, &message), ErrorCode::Network);
    EXPECT_EQ(message.find("SECRET"), std::string::npos) << message;
    EXPECT_EQ(message.find("key="), std::string::npos) << message;
    EXPECT_EQ(
        message.rfind("GET http://127.0.0.1:" + std::to_string(gone.port()) + "/v1/jobs: ", 0), 0u)
        << message;
}

TEST_F(CurlTransportTest, ShortBodyIsANetworkError) {
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        "Content-Length: 1000\r\nConnection: close\r\n\r\n";
    {
        RawServer raw(head + std::string(100, 'x'));
        http::Request req;
        req.url = raw.url("/video");
        req.timeout_s = 5;
        std::string message;
        EXPECT_EQ(code_of([&] { transport_->perform(req); }, &message), ErrorCode::Network);
        EXPECT_NE(message.find("got 100 of 1000 bytes"), std::string::npos) << message;
    }
    {
        TempDir dir;
        RawServer raw(head + std::string(100, 'x'));
        http::Request req;
        req.url = raw.url("/video");
        req.timeout_s = 5;
        req.download_to = dir / "video.mp4";
        EXPECT_EQ(code_of([&] { transport_->perform(req); }), ErrorCode::Network);
        EXPECT_TRUE(entries(dir.path()).empty());
    }
}

TEST_F(CurlTransportTest, TimeoutIsANetworkErrorAndQuick) {
    TempDir dir;
    auto req = request("GET", "/slow");
    req.timeout_s = 0.3;
    req.download_to = dir / "late.txt";
    auto t0 = Clock::now();
    std::string message;
    EXPECT_EQ(code_of([&] { transport_->perform(req); }, &message), ErrorCode::Network);
    double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    EXPECT_LT(elapsed, 1.5);
    EXPECT_NE(message.find("timed out"), std::string::npos) << message;
    EXPECT_TRUE(entries(dir.path()).empty());
}

TEST_F(CurlTransportTest, RejectsHeaderInjection) {
    auto req = request("GET", "/echo");
    req.headers = {{"X-Test", "a\r\nX-Evil: 1"}};
    EXPECT_EQ(code_of([&] { transport_->perform(req); }), ErrorCode::Internal);
}

TEST_F(CurlTransportTest, ParallelRequests) {
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 6; ++i) {
        threads.emplace_back([&, i] {
            for (int k = 0; k < 5; ++k) {
                auto req = request("POST", "/echo");
                req.body = "t" + std::to_string(i) + "k" + std::to_string(k);
                http::Response r = transport_->perform(req);
                if (r.status == 200 && r.body.find("body=" + req.body) != std::string::npos) ++ok;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 30);
}

TEST(CurlTransport, RefusesUnsupportedSchemes) {
    auto transport = http::make_curl_transport();
    http::Request req;
    req.url = "file:///etc/passwd";
    EXPECT_EQ(code_of([&] { transport->perform(req); }), ErrorCode::Network);
}
