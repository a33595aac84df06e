// Kling client against the mock: the JWT, request mapping, image adjustment to Kling's limits,
// envelope code mapping (with a canned server) and the fault catalogue.

#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stb_image.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "models/api/kling_jwt.hpp"
#include "models/api/providers.hpp"
#include "api/api_support.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/runs/inference_runner.hpp"
#include "vmeval/video/image.hpp"
#include "vmeval/video/probe.hpp"

namespace {

using json = nlohmann::json;
using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::InferenceRunner;
using vmeval::Params;
using vmeval::RunOptions;
using vmeval::RunResult;
using vmeval::testkit::MockApi;
using vmeval::testkit::TempDir;
namespace fs = std::filesystem;
namespace registry = vmeval::registry;

using vmeval::testkit::ScopedEnv;

const registry::ModelInfo& catalog(const char* name) {
    const registry::ModelInfo* m = registry::find_model(name);
    if (m == nullptr) throw std::runtime_error(std::string("catalog lacks ") + name);
    return *m;
}

Params params(std::initializer_list<std::pair<const char*, const char*>> kv) {
    Params p;
    for (const auto& [k, v] : kv) p.set(k, v);
    return p;
}

using vmeval::testkit::image_size;

std::string b64url_decode(std::string s) {
    for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (s.size() % 4) s += '=';
    std::string out(s.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(s.data()),
                            static_cast<int>(s.size()));
    if (n < 0) return "";
    size_t pad = s.size() - s.find_last_not_of('=') - 1;
    out.resize(static_cast<size_t>(n) - pad);
    return out;
}

class KlingApi : public ::testing::Test {
protected:
    void SetUp() override { api_ = std::make_unique<MockApi>(); }
    void restart(vmeval::mock::MockOptions o) {
        api_.reset();
        api_ = std::make_unique<MockApi>(o);
    }

    RunResult run(const std::string& model, const std::string& prompt = "The knight moves to f3.",
                  Params p = {}, int width = 64, int height = 48) {
        fs::path image = dir_ / ("in-" + std::to_string(++images_)) / "start.png";
        vmeval::testkit::write_test_png(image, width, height);
        InferenceRunner runner(dir_ / "out");
        RunOptions o;
        o.params = p;
        return runner.run(model, image, prompt, o);
    }

    std::shared_ptr<vmeval::mock::Job> job_of(const RunResult& r) {
        return api_->context().find(r.metadata["provider"].value("job_id", ""));
    }

    TempDir dir_;
    std::unique_ptr<MockApi> api_;
    int images_ = 0;
};

void expect_failed(const RunResult& r, ErrorCode code) {
    EXPECT_FALSE(r.success);
    ASSERT_TRUE(r.error_code.has_value()) << r.error_message;
    EXPECT_EQ(*r.error_code, code) << vmeval::to_string(*r.error_code) << ": " << r.error_message;
    EXPECT_TRUE(r.video_path.empty());
    if (!r.run_dir.empty()) {
        EXPECT_TRUE(!fs::exists(r.run_dir / "video") || fs::is_empty(r.run_dir / "video"))
            << r.run_dir;
    }
}

}  // namespace

// ---- the JWT -----------------------------------------------------------------------------------

TEST(KlingJwt, MatchesAKnownAnswer) {
    // Computed independently (Python hmac/hashlib) for iss kling-access-0003, secret
    // kling-secret-0004, now 1700000000: exp now+1800, nbf now-5.
    EXPECT_EQ(vmeval::api::kling_jwt("kling-access-0003", "kling-secret-0004", 1700000000),
              "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
              "eyJleHAiOjE3MDAwMDE4MDAsImlzcyI6ImtsaW5nLWFjY2Vzcy0wMDAzIiwibmJmIjoxNjk5OTk5OTk1fQ."
              "meApD66TTou2raJb8EJKSb7uPu_afeSKBifRQOxSnuY");
}

TEST(KlingJwt, DecodesAndVerifiesWithOpenSsl) {
    const std::int64_t now = 1750000000;
    std::string token = vmeval::api::kling_jwt("AK-123", "a secret with spaces", now);
    EXPECT_EQ(token.find('='), std::string::npos);
    EXPECT_EQ(token.find('+'), std::string::npos);
    EXPECT_EQ(token.find('/'), std::string::npos);
    auto d1 = token.find('.'), d2 = token.rfind('.');
    ASSERT_NE(d1, d2);
    EXPECT_EQ(json::parse(b64url_decode(token.substr(0, d1))),
              json({{"alg", "HS256"}, {"typ", "JWT"}}));
    json payload = json::parse(b64url_decode(token.substr(d1 + 1, d2 - d1 - 1)));
    EXPECT_EQ(payload["iss"], "AK-123");
    EXPECT_EQ(payload["exp"], now + 1800);
    EXPECT_EQ(payload["nbf"], now - 5);

    // EVP_MAC is another OpenSSL code path than the client's one-shot HMAC().
    const std::string input = token.substr(0, d2), key = "a secret with spaces";
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t len = 0;
    ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                        reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                        sizeof mac, &len),
              nullptr);
    EXPECT_EQ(b64url_decode(token.substr(d2 + 1)), std::string(reinterpret_cast<char*>(mac), len));
}

TEST_F(KlingApi, MockChecksTheJwtLikeKling) {
    auto o = MockApi::fast_options();
    o.required_key = MockApi::kKlingSecret;
    restart(o);
    httplib::Client c(api_->url());
    const std::string path =
        std::string(vmeval::mock::kKlingPrefix) + "/v1/videos/image2video/none";
    auto code_for = [&](const std::string& auth) {
        httplib::Headers h;
        if (!auth.empty()) h.emplace("Authorization", auth);
        auto res = c.Get(path.c_str(), h);
        if (!res) return std::make_pair(0, -1);
        return std::make_pair(res->status, json::parse(res->body).value("code", -1));
    };
    const std::int64_t now = std::time(nullptr);
    using vmeval::api::kling_jwt;
    EXPECT_EQ(code_for(""), std::make_pair(401, 1001));
    EXPECT_EQ(code_for("Bearer not.a.jwt"), std::make_pair(401, 1002));
    EXPECT_EQ(code_for("Bearer " + kling_jwt("ak", "wrong-secret", now)),
              std::make_pair(401, 1002));
    EXPECT_EQ(code_for("Bearer " + kling_jwt("ak", MockApi::kKlingSecret, now + 600)),
              std::make_pair(401, 1003));
    EXPECT_EQ(code_for("Bearer " + kling_jwt("ak", MockApi::kKlingSecret, now - 4000)),
              std::make_pair(401, 1004));
    EXPECT_EQ(code_for("Bearer " + kling_jwt("", MockApi::kKlingSecret, now)),
              std::make_pair(401, 1002));
    EXPECT_EQ(code_for("Bearer " + kling_jwt("ak", MockApi::kKlingSecret, now)),
              std::make_pair(404, 1203));
}

// ---- every catalog model, through the runner ---------------------------------------------------

class KlingCatalog : public KlingApi, public ::testing::WithParamInterface<const char*> {};

TEST_P(KlingCatalog, GeneratesThroughTheRunner) {
    const registry::ModelInfo& info = catalog(GetParam());
    const bool master = std::string(GetParam()) == "kling-v2.1-master";
    auto o = MockApi::fast_options();
    o.required_key = MockApi::kKlingSecret;  // the mock verifies the signature
    restart(o);
    RunResult r = run(GetParam());
    ASSERT_TRUE(r.success) << r.error_message;
    EXPECT_GT(vmeval::video::probe_video(r.video_path).frames, 0);

    const json& p = r.metadata["parameters"];
    EXPECT_EQ(p["model"], info.provider_model_id);
    EXPECT_EQ(p["duration_s"], 5);
    EXPECT_EQ(p.contains("mode"), !master);
    if (!master) {
        EXPECT_EQ(p["mode"], "std");
    }
    EXPECT_EQ(p["image_width"], 400);  // 64x48 scaled up so that the short side is 300
    EXPECT_EQ(p["image_height"], 300);
    EXPECT_EQ(p["image_adjusted"], true);
    EXPECT_EQ(r.metadata["provider"]["final_state"], "succeed");

    auto job = job_of(r);
    ASSERT_TRUE(job);
    json expected = {{"model_name", info.provider_model_id},
                     {"prompt", "The knight moves to f3."},
                     {"duration", "5"},
                     {"image", job->request["image"]}};
    if (!master) expected["mode"] = "std";
    EXPECT_EQ(job->request, expected);
    EXPECT_EQ(image_size(job->image), std::make_pair(400, 300));
    const std::string dump = r.metadata.dump();
    EXPECT_EQ(dump.find(MockApi::kKlingSecret), std::string::npos);
    EXPECT_EQ(dump.find(MockApi::kKlingAccess), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(KlingModels, KlingCatalog,
                         ::testing::Values("kling-v2.1", "kling-v2.1-master", "kling-v2.5-turbo"),
                         [](const auto& param_info) {
                             std::string s = param_info.param;
                             for (char& c : s) {
                                 c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                             }
                             return s;
                         });

// ---- image preparation and parameters --------------------------------------------------------

TEST_F(KlingApi, ImagesAreFittedToKlingsSizeAndAspectLimits) {
    struct Case {
        int w, h, want_w, want_h;
    };
    for (Case c : {Case{300, 60, 750, 300}, Case{40, 200, 300, 750}, Case{4000, 1000, 1920, 768},
                   Case{640, 480, 640, 480}}) {
        RunResult r = run("kling-v2.1", "Sizes.", {}, c.w, c.h);
        ASSERT_TRUE(r.success) << c.w << "x" << c.h << ": " << r.error_message;
        auto job = job_of(r);
        ASSERT_TRUE(job);
        EXPECT_EQ(image_size(job->image), std::make_pair(c.want_w, c.want_h)) << c.w << "x" << c.h;
        EXPECT_EQ(r.metadata["parameters"]["image_adjusted"], c.w != c.want_w || c.h != c.want_h);
    }
}

TEST_F(KlingApi, DurationModeAndNegativePromptAreSent) {
    RunResult r = run("kling-v2.5-turbo", "Params.",
                      params({{"duration", "10"}, {"mode", "pro"}, {"negative_prompt", "blur"}}));
    ASSERT_TRUE(r.success) << r.error_message;
    const json& body = job_of(r)->request;
    EXPECT_EQ(body["duration"], "10");
    EXPECT_EQ(body["mode"], "pro");
    EXPECT_EQ(body["negative_prompt"], "blur");
    EXPECT_FALSE(body.contains("cfg_scale"));
    EXPECT_EQ(r.metadata["parameters"]["duration_s"], 10);
    EXPECT_EQ(r.metadata["parameters"]["mode"], "pro");
}

TEST_F(KlingApi, BadParamsAreRefusedBeforeAnyRequest) {
    auto code_of = [](const char* model, Params p) -> std::optional<ErrorCode> {
        try {
            registry::create_model(catalog(model), p);
        } catch (const Error& e) {
            return e.code();
        }
        return std::nullopt;
    };
    EXPECT_EQ(code_of("kling-v2.1", params({{"duration", "7"}})), ErrorCode::Usage);
    EXPECT_EQ(code_of("kling-v2.1", params({{"mode", "turbo"}})), ErrorCode::Usage);
    EXPECT_EQ(code_of("kling-v2.1-master", params({{"mode", "pro"}})), ErrorCode::Usage);
    EXPECT_EQ(code_of("kling-v2.1", params({{"cfg_scale", "0.5"}})), ErrorCode::Usage);
    EXPECT_EQ(code_of("kling-v2.1", params({{"negative_prompt", std::string(2501, 'x').c_str()}})),
              ErrorCode::Usage);
    EXPECT_EQ(code_of("kling-v2.1-master", params({{"duration", "10"}})), std::nullopt);
}

TEST_F(KlingApi, OverlongPromptIsAnInvalidQuestion) {
    RunResult r = run("kling-v2.1", std::string(2501, 'a'));
    EXPECT_FALSE(r.success);
    ASSERT_TRUE(r.error_code.has_value());
    EXPECT_EQ(*r.error_code, ErrorCode::InvalidQuestion) << r.error_message;
}

TEST_F(KlingApi, MissingSecretRefusesTheModel) {
    ScopedEnv unset("KLING_SECRET_KEY", nullptr);
    try {
        registry::create_model(catalog("kling-v2.1"), {});
        FAIL() << "created without a secret";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::ModelUnavailable);
        EXPECT_NE(std::string(e.what()).find("KLING_SECRET_KEY"), std::string::npos) << e.what();
    }
}

// ---- errors and faults ---------------------------------------------------------------------

TEST_F(KlingApi, WrongSecretIsAConfigErrorNamingTheVariables) {
    auto o = MockApi::fast_options();
    o.required_key = "the-real-secret";
    restart(o);
    RunResult r = run("kling-v2.1");
    expect_failed(r, ErrorCode::Config);
    EXPECT_NE(r.error_message.find("KLING_ACCESS_KEY"), std::string::npos) << r.error_message;
    EXPECT_NE(r.error_message.find("KLING_SECRET_KEY"), std::string::npos) << r.error_message;
    EXPECT_NE(r.error_message.find("1002"), std::string::npos) << r.error_message;
    EXPECT_EQ(r.error_message.find(MockApi::kKlingSecret), std::string::npos) << r.error_message;
}

TEST_F(KlingApi, Create429IsRetried) {
    RunResult r = run("kling-v2.1", "[mock-fault:create-429@1] Retry me.");
    ASSERT_TRUE(r.success) << r.error_message;
    EXPECT_GE(r.metadata["provider"]["retries"].get<int>(), 1);
}

TEST_F(KlingApi, PersistentCreate500FailsAsHttp) {
    ScopedEnv quick("VMEVAL_HTTP_RETRY_BASE_S", "0.01");  // five attempts, little waiting
    RunResult r = run("kling-v2.1", "[mock-fault:create-500@10] Always broken.");
    expect_failed(r, ErrorCode::Http);
    EXPECT_NE(r.error_message.find("code 5000"), std::string::npos) << r.error_message;
}

TEST_F(KlingApi, PollFaultsAreRecovered) {
    RunResult a = run("kling-v2.1", "[mock-fault:poll-500@1] Poll hiccup.");
    ASSERT_TRUE(a.success) << a.error_message;
    RunResult b = run("kling-v2.1", "[mock-fault:poll-malformed@1] Garbled poll.");
    ASSERT_TRUE(b.success) << b.error_message;
    // A status endpoint that keeps answering garbage is not waited on forever.
    RunResult c = run("kling-v2.1", "[mock-fault:poll-malformed@4] Always garbled.");
    expect_failed(c, ErrorCode::Http);
    EXPECT_NE(c.error_message.find("malformed JSON"), std::string::npos) << c.error_message;
}

TEST_F(KlingApi, ModerationIsContentFiltered) {
    RunResult r = run("kling-v2.1", "[mock-fault:moderation] Filtered.");
    expect_failed(r, ErrorCode::ContentFiltered);
    EXPECT_NE(r.error_message.find("risk control"), std::string::npos) << r.error_message;
}

TEST_F(KlingApi, FailedTaskIsAGenerationFailure) {
    RunResult r = run("kling-v2.1", "[mock-fault:job-failed] Broken job.");
    expect_failed(r, ErrorCode::Generation);
    EXPECT_NE(r.error_message.find("internal generation error"), std::string::npos)
        << r.error_message;
}

TEST_F(KlingApi, StuckTaskTimesOut) {
    ScopedEnv timeout("VMEVAL_JOB_TIMEOUT_S", "0.5");
    RunResult r = run("kling-v2.1", "[mock-fault:stuck] Forever.");
    expect_failed(r, ErrorCode::Timeout);
    EXPECT_NE(r.error_message.find("processing"), std::string::npos) << r.error_message;
}

TEST_F(KlingApi, TruncatedDownloadLeavesNoVideo) {
    ScopedEnv quick("VMEVAL_HTTP_RETRY_BASE_S", "0.01");  // five attempts, little waiting
    RunResult r = run("kling-v2.1", "[mock-fault:download-truncate] Half a file.");
    expect_failed(r, ErrorCode::Network);
}

// ---- envelope codes, from a canned server -----------------------------------------------------

namespace {

/// Answers every create with one fixed (status, body); Retry-After 0 keeps retried statuses quick.
class CannedKling {
public:
    CannedKling(int status, std::string body) {
        server_.Post(".*", [status, body](const httplib::Request&, httplib::Response& res) {
            res.status = status;
            res.set_header("Retry-After", "0");
            res.set_content(body, "application/json");
        });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        for (int i = 0; i < 500 && !server_.is_running(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
    ~CannedKling() {
        server_.stop();
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    httplib::Server server_;
    std::thread thread_;
    int port_ = 0;
};

/// The error a create answered with (status, envelope code) turns into.
Error create_error(int status, int code, const std::string& message) {
    CannedKling canned(status,
                       json{{"code", code}, {"message", message}, {"request_id", "rid-1"}}.dump());
    ScopedEnv base("VMEVAL_KLING_BASE_URL", canned.url().c_str());
    ScopedEnv access("KLING_ACCESS_KEY", "ak-canned");
    ScopedEnv secret("KLING_SECRET_KEY", "sk-canned");
    auto model = vmeval::api::make_kling(catalog("kling-v2.1"), {});
    vmeval::video::Image img(320, 320);
    vmeval::GenerationRequest req;
    req.first_frame = &img;
    req.prompt = "x";
    TempDir dir;
    req.video_path = dir / "v.mp4";
    try {
        model->generate(req);
    } catch (const Error& e) {
        return e;
    }
    return Error(ErrorCode::Internal, "no error");
}

}  // namespace

TEST(KlingEnvelope, CodesMapToErrorCodes) {
    struct Case {
        int status, code;
        ErrorCode want;
    };
    for (Case c : {Case{401, 1002, ErrorCode::Config}, Case{401, 1004, ErrorCode::Config},
                   Case{200, 1004, ErrorCode::Config}, Case{429, 1102, ErrorCode::Http},
                   Case{403, 1103, ErrorCode::Http}, Case{400, 1201, ErrorCode::Http},
                   Case{404, 1203, ErrorCode::Http}, Case{400, 1301, ErrorCode::ContentFiltered},
                   Case{200, 1301, ErrorCode::ContentFiltered}, Case{429, 1303, ErrorCode::Http},
                   Case{500, 5000, ErrorCode::Http}, Case{200, 1201, ErrorCode::Http}}) {
        Error e = create_error(c.status, c.code, "canned message " + std::to_string(c.code));
        EXPECT_EQ(e.code(), c.want) << c.status << "/" << c.code << ": " << e.what();
        const std::string what = e.what();
        EXPECT_NE(what.find("code " + std::to_string(c.code)), std::string::npos) << what;
        EXPECT_NE(what.find("canned message"), std::string::npos) << what;
        EXPECT_NE(what.find("rid-1"), std::string::npos) << what;
        EXPECT_EQ(what.find("sk-canned"), std::string::npos) << what;
        if (c.code == 1004) {
            EXPECT_NE(what.find("clock"), std::string::npos) << what;
        }
    }
}

// ---- the real binary ---------------------------------------------------------------------------

TEST_F(KlingApi, RealBinaryGeneratesAgainstTheMock) {
    fs::path questions = dir_ / "questions";
    vmeval::testkit::make_question(questions, "maze", "maze_0000", false, 64, 48);
    fs::path out = dir_ / "bin-out";
    auto r = vmeval::testkit::run_vmeval(
        {"--env-file", (dir_ / "none.env").string(), "generate", "--questions-dir",
         questions.string(), "--output-dir", out.string(), "-m", "kling-v2.1"},
        api_->child_env());
    ASSERT_EQ(r.exit_code, 0) << r.out << "\n" << r.err;
    for (const char* secret : {MockApi::kKlingSecret, MockApi::kKlingAccess}) {
        EXPECT_EQ(r.out.find(secret), std::string::npos);
        EXPECT_EQ(r.err.find(secret), std::string::npos);
    }
    int videos = 0;
    for (const auto& e : fs::recursive_directory_iterator(out / "kling-v2.1")) {
        if (e.path().filename() == "generated_video.mp4") {
            ++videos;
            EXPECT_GT(vmeval::video::probe_video(e.path()).frames, 0);
        }
        if (e.path().filename() == "metadata.json") {
            json m = json::parse(vmeval::testkit::read_text(e.path()));
            EXPECT_EQ(m["status"], "success");
            EXPECT_EQ(m["parameters"]["model"], "kling-v2-1");
        }
    }
    EXPECT_EQ(videos, 1);
}
