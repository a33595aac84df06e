// Luma Dream Machine end to end against the mock (S3 upload included), the SigV4 code against
// AWS's published examples, and the rules the client enforces before spending money.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "models/api/s3_upload.hpp"
#include "api/api_support.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/core/hash.hpp"
#include "vmeval/core/params.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/runs/inference_runner.hpp"
#include "vmeval/video/image.hpp"
#include "vmeval/video/probe.hpp"

namespace {

namespace fs = std::filesystem;
namespace s3 = vmeval::api::s3;
using nlohmann::json;
using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::Params;
using vmeval::testkit::MockApi;
using vmeval::testkit::TempDir;

// AWS's example credentials, used throughout its SigV4 documentation for S3.
constexpr const char* kExampleAccess = "AKIAIOSFODNN7EXAMPLE";
constexpr const char* kExampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

std::time_t example_time() {
    std::tm tm{};
    tm.tm_year = 113;  // 2013-05-24T00:00:00Z
    tm.tm_mon = 4;
    tm.tm_mday = 24;
    return ::timegm(&tm);
}

s3::Credentials example_credentials() {
    s3::Credentials c;
    c.access_key = kExampleAccess;
    c.secret_key = kExampleSecret;
    return c;
}

/// Sets or unsets variables for a scope, restoring them afterwards.
class ScopedEnv {
public:
    ~ScopedEnv() {
        for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
            if (it->second) {
                ::setenv(it->first.c_str(), it->second->c_str(), 1);
            } else {
                ::unsetenv(it->first.c_str());
            }
        }
    }
    void set(const std::string& name, const std::string& value) {
        save(name);
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    void unset(const std::string& name) {
        save(name);
        ::unsetenv(name.c_str());
    }

private:
    void save(const std::string& name) {
        const char* v = std::getenv(name.c_str());
        saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
    }
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

/// The mock, with the variables cleared that a developer's shell may hold and that would send
/// the Luma client elsewhere (a real S3 endpoint, a public folder, another base URL).
class LumaMockApi {
public:
    explicit LumaMockApi(vmeval::mock::MockOptions o = MockApi::fast_options()) : api_(o) {
        for (const char* v :
             {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
              "VMEVAL_PUBLIC_IMAGE_DIR", "VMEVAL_PUBLIC_IMAGE_BASE_URL", "VMEVAL_LUMA_BASE_URL"}) {
            env_.unset(v);
        }
    }
    std::string url() const { return api_.url(); }
    vmeval::mock::MockContext& context() { return api_.context(); }
    std::vector<std::string> child_env() const { return api_.child_env(); }

private:
    MockApi api_;
    ScopedEnv env_;  // restored before MockApi restores its own variables
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

fs::path image(const TempDir& tmp, int w = 640, int h = 360,
               const std::string& name = "first_frame.png") {
    fs::path p = tmp / name;
    vmeval::testkit::write_test_png(p, w, h);
    return p;
}

vmeval::RunResult run_luma(const fs::path& out, const fs::path& img, const std::string& prompt,
                           const std::string& model = "luma-ray-2", const Params& params = {}) {
    vmeval::InferenceRunner runner(out);
    vmeval::RunOptions o;
    o.params = params;
    return runner.run(model, img, prompt, o);
}

std::string error_code(const vmeval::RunResult& r) {
    return r.error_code ? vmeval::to_string(*r.error_code) : "none";
}

/// The job id a failure message names ("... job <id> failed/did not finish ...").
std::string job_in(const std::string& message) {
    std::smatch m;
    return std::regex_search(message, m, std::regex("job ([0-9a-f-]{36})")) ? m[1].str() : "";
}

/// Width and height from a PNG's IHDR.
std::pair<int, int> png_size(const std::string& png) {
    auto be32 = [&](size_t at) {
        return (static_cast<unsigned char>(png[at]) << 24) |
               (static_cast<unsigned char>(png[at + 1]) << 16) |
               (static_cast<unsigned char>(png[at + 2]) << 8) |
               static_cast<unsigned char>(png[at + 3]);
    };
    return {static_cast<int>(be32(16)), static_cast<int>(be32(20))};
}

void expect_no_secrets(const fs::path& dir, const std::vector<std::string>& texts = {}) {
    for (const char* k : {MockApi::kLumaKey, MockApi::kAwsSecret}) {
        for (const auto& t : texts) EXPECT_EQ(t.find(k), std::string::npos) << "output holds " << k;
        if (!fs::exists(dir)) continue;
        for (const auto& e : fs::recursive_directory_iterator(dir)) {
            if (!e.is_regular_file()) continue;
            EXPECT_EQ(slurp(e.path()).find(k), std::string::npos) << e.path() << " holds " << k;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SigV4 against AWS's worked examples (S3 API reference, "Signature Calculations for the
// Authorization Header" and "Authenticating Requests: Using Query Parameters").

TEST(LumaSigV4, PresignedGetMatchesAwsExample) {
    std::string url =
        s3::presign(example_credentials(), "GET", "https://examplebucket.s3.amazonaws.com/test.txt",
                    86400, example_time());
    EXPECT_EQ(url,
              "https://examplebucket.s3.amazonaws.com/"
              "test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
              "AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
              "20130524T000000Z&X-Amz-"
              "Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
              "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");

    // The intermediate AWS prints: the string to sign and its canonical request hash.
    auto q = s3::parse_query(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
        "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
        "X-Amz-SignedHeaders=host");
    s3::Signature s = s3::sign(kExampleSecret, "us-east-1", "s3", "GET", "/test.txt",
                               s3::canonical_query(q), {{"host", "examplebucket.s3.amazonaws.com"}},
                               "UNSIGNED-PAYLOAD", "20130524T000000Z");
    EXPECT_EQ(s.string_to_sign,
              "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
              "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
}

TEST(LumaSigV4, HeaderSignedRequestsMatchAwsExamples) {
    // GET Object with a Range header.
    auto get = s3::authorization_headers(
        example_credentials(), "GET", "https://examplebucket.s3.amazonaws.com/test.txt",
        s3::kEmptySha256, example_time(), {{"Range", "bytes=0-9"}});
    EXPECT_EQ(get.back().name, "Authorization");
    EXPECT_EQ(get.back().value,
              "AWS4-HMAC-SHA256 "
              "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders="
              "host;range;x-amz-content-sha256;x-amz-date,Signature="
              "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");

    // PUT Object: a key with '$' (already encoded in the URL), a payload and extra headers.
    const std::string body = "Welcome to Amazon S3.";
    EXPECT_EQ(vmeval::sha256_hex(body),
              "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    auto put = s3::authorization_headers(
        example_credentials(), "PUT", "https://examplebucket.s3.amazonaws.com/test%24file.text",
        vmeval::sha256_hex(body), example_time(),
        {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}});
    EXPECT_EQ(put.back().value,
              "AWS4-HMAC-SHA256 "
              "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders="
              "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature="
              "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    EXPECT_EQ(s3::uri_encode("test$file.text", true), "test%24file.text");
}

TEST(LumaSigV4, ServerChecksAcceptWhatWeSignAndRefuseTampering) {
    s3::Credentials c = example_credentials();
    c.session_token = "session/token+with=odd chars";
    const s3::ServerKeys keys{kExampleAccess, kExampleSecret};
    const std::time_t t = example_time();

    std::string url =
        s3::presign(c, "GET", "http://127.0.0.1:9/s3/b/vmeval/x/first_frame.png", 3600, t);
    s3::UrlParts u = s3::split_url(url);
    EXPECT_TRUE(
        s3::check_request("GET", u.path, u.query, {{"host", u.host}}, "", keys, t + 10).ok());
    EXPECT_EQ(
        s3::check_request("GET", u.path, u.query, {{"host", u.host}}, "", keys, t + 3601).code,
        "AccessDenied");
    EXPECT_EQ(s3::check_request("GET", u.path + "x", u.query, {{"host", u.host}}, "", keys, t).code,
              "SignatureDoesNotMatch");
    EXPECT_EQ(
        s3::check_request("GET", u.path, u.query, {{"host", u.host}}, "", {"AKIAOTHER", ""}, t)
            .code,
        "InvalidAccessKeyId");
    // Without the secret the server can only check the form, which is right.
    EXPECT_TRUE(
        s3::check_request("GET", u.path + "x", u.query, {{"host", u.host}}, "", {}, t).ok());

    const std::string body = "\x89PNG fake bytes";
    auto headers =
        s3::authorization_headers(c, "PUT", "http://127.0.0.1:9/s3/b/k.png",
                                  vmeval::sha256_hex(body), t, {{"Content-Type", "image/png"}});
    std::map<std::string, std::string> h = {{"host", "127.0.0.1:9"}};
    for (const auto& x : headers) {
        std::string n = x.name;
        for (char& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        h[n] = x.value;
    }
    EXPECT_NE(h["authorization"].find("x-amz-security-token"), std::string::npos);
    EXPECT_TRUE(s3::check_request("PUT", "/s3/b/k.png", "", h, body, keys, t + 60).ok());
    EXPECT_EQ(s3::check_request("PUT", "/s3/b/k.png", "", h, body + "!", keys, t).code,
              "XAmzContentSHA256Mismatch");
    EXPECT_EQ(s3::check_request("PUT", "/s3/b/k.png", "", h, body, keys, t + 3600).code,
              "RequestTimeTooSkewed");
    auto unsigned_extra = h;
    unsigned_extra["x-amz-meta-sneaky"] = "1";
    EXPECT_EQ(s3::check_request("PUT", "/s3/b/k.png", "", unsigned_extra, body, keys, t).code,
              "AccessDenied");
    EXPECT_EQ(
        s3::check_request("PUT", "/s3/b/k.png", "", {{"host", "127.0.0.1:9"}}, body, keys, t).code,
        "AccessDenied");
}

TEST(LumaS3, ObjectUrlsAndPresignedShape) {
    s3::Bucket b;
    b.credentials = example_credentials();
    b.credentials.region = "eu-west-3";
    b.name = "my-bucket";
    EXPECT_EQ(b.object_url("vmeval/a b/first_frame.png"),
              "https://my-bucket.s3.eu-west-3.amazonaws.com/vmeval/a%20b/first_frame.png");
    b.name = "my.dotted.bucket";  // TLS wildcards do not cover dots: path-style
    EXPECT_EQ(b.object_url("k.png"), "https://s3.eu-west-3.amazonaws.com/my.dotted.bucket/k.png");
    b.endpoint = "https://minio.example:9000/";
    EXPECT_EQ(b.object_url("k.png"), "https://minio.example:9000/my.dotted.bucket/k.png");

    b.credentials.session_token = "tok";
    std::string url =
        s3::presigned_get(b, "vmeval/t/first_frame.png", s3::kPresignExpiresS, example_time());
    EXPECT_EQ(url.rfind("https://minio.example:9000/my.dotted.bucket/vmeval/t/first_frame.png?", 0),
              0u)
        << url;
    for (const char* part :
         {"X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Expires=21600", "X-Amz-SignedHeaders=host",
          "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Feu-west-3%2Fs3%2Faws4_request",
          "X-Amz-Security-Token=tok", "X-Amz-Date=20130524T000000Z", "&X-Amz-Signature="}) {
        EXPECT_NE(url.find(part), std::string::npos) << part << " in " << url;
    }
    EXPECT_EQ(url.find(kExampleSecret), std::string::npos);
    // The default port is left out of the signed host, as libcurl leaves it out of Host.
    EXPECT_EQ(s3::split_url("https://h.example:443/a?b=1").host, "h.example");
    EXPECT_EQ(s3::split_url("http://h.example:8080").path, "/");
}

TEST(LumaS3, PublicDirPlacesAndRemovesFiles) {
    TempDir tmp;
    s3::PublicDir d{tmp.path(), "https://images.example.org/vmeval"};
    std::string url = d.place("vmeval-1.png", "bytes");
    EXPECT_EQ(url, "https://images.example.org/vmeval/vmeval-1.png");
    EXPECT_EQ(slurp(tmp / "vmeval-1.png"), "bytes");
    EXPECT_TRUE(d.remove("vmeval-1.png"));
    EXPECT_FALSE(fs::exists(tmp / "vmeval-1.png"));
    EXPECT_TRUE(d.remove("vmeval-1.png"));  // already gone counts as done
    EXPECT_NE(s3::unique_token(), s3::unique_token());
}

// ---------------------------------------------------------------------------------------------
// The factory: parameters and configuration, refused before any request.

TEST(LumaConfig, BadParametersAreUsageErrors) {
    LumaMockApi api;
    const auto& info = *vmeval::registry::find_model("luma-ray-2");
    for (const auto& [key, value] :
         std::vector<std::pair<std::string, std::string>>{{"duration", "7"},
                                                          {"resolution", "8k"},
                                                          {"aspect_ratio", "2:1"},
                                                          {"loop", "maybe"},
                                                          {"seconds", "5"}}) {
        Params p;
        p.set(key, value);
        try {
            vmeval::registry::create_model(info, p);
            ADD_FAILURE() << key << "=" << value << " accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::Usage) << e.what();
        }
    }
    Params ok;
    for (auto [k, v] : std::map<std::string, std::string>{{"duration", "9s"},
                                                          {"resolution", "1080p"},
                                                          {"aspect_ratio", "auto"},
                                                          {"loop", "true"}}) {
        ok.set(k, v);
    }
    EXPECT_NO_THROW(vmeval::registry::create_model(info, ok));
}

TEST(LumaConfig, NoImageHostIsModelUnavailableNamingTheVariables) {
    LumaMockApi api;
    const auto& info = *vmeval::registry::find_model("luma-ray-flash-2");
    auto message_of = [&]() -> std::string {
        try {
            vmeval::registry::create_model(info, {});
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::ModelUnavailable) << e.what();
            return e.what();
        }
        return "(created)";
    };
    {
        ScopedEnv env;
        env.unset("AWS_S3_BUCKET");
        env.unset("VMEVAL_PUBLIC_IMAGE_DIR");
        env.unset("VMEVAL_PUBLIC_IMAGE_BASE_URL");
        std::string m = message_of();
        for (const char* var : {"AWS_S3_BUCKET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                "VMEVAL_PUBLIC_IMAGE_DIR", "VMEVAL_PUBLIC_IMAGE_BASE_URL"}) {
            EXPECT_NE(m.find(var), std::string::npos) << var << " not in: " << m;
        }
    }
    {
        ScopedEnv env;
        env.unset("AWS_SECRET_ACCESS_KEY");
        EXPECT_NE(message_of().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
    }
    {
        ScopedEnv env;
        env.set("VMEVAL_PUBLIC_IMAGE_BASE_URL", "https://images.example.org");
        env.unset("VMEVAL_PUBLIC_IMAGE_DIR");
        EXPECT_NE(message_of().find("VMEVAL_PUBLIC_IMAGE_DIR"), std::string::npos);
    }
    {
        ScopedEnv env;
        env.unset("LUMA_API_KEY");
        EXPECT_NE(message_of().find("LUMA_API_KEY"), std::string::npos);
    }
}

// ---------------------------------------------------------------------------------------------
// Generations against the mock.

TEST(LumaRun, BothModelsSucceedAndTheUploadIsDeleted) {
    LumaMockApi api;
    TempDir tmp;
    fs::path img = image(tmp);
    for (const std::string model : {"luma-ray-2", "luma-ray-flash-2"}) {
        auto r = run_luma(tmp / "out", img, "Move the square to the right.", model);
        ASSERT_TRUE(r.success) << model << ": " << r.error_message;
        auto probe = vmeval::video::probe_video(r.video_path);
        EXPECT_GT(probe.frames, 0);

        const json& p = r.metadata["parameters"];
        const std::string id = model == "luma-ray-2" ? "ray-2" : "ray-flash-2";
        EXPECT_EQ(p["model"], id);
        EXPECT_EQ(p["duration"], "5s");
        EXPECT_EQ(p["duration_s"], 5);
        EXPECT_EQ(p["resolution"], "720p");
        EXPECT_EQ(p["aspect_ratio"], "16:9");
        EXPECT_EQ(p["loop"], false);
        EXPECT_EQ(p["image_width"], 640);
        EXPECT_EQ(p["image_height"], 360);
        EXPECT_EQ(p["image_letterboxed"], false);
        EXPECT_EQ(p["image_host"], "s3");
        const std::string recorded_url = p["image_url"].get<std::string>();
        EXPECT_EQ(recorded_url.find('?'), std::string::npos) << "a presigned query was recorded";
        const json& prov = r.metadata["provider"];
        EXPECT_EQ(prov["final_state"], "completed");
        EXPECT_GE(prov["polls"].get<int>(), 1);

        // What the mock received: the documented body, with the presigned URL of our upload.
        auto job = api.context().find(prov["job_id"].get<std::string>());
        ASSERT_TRUE(job);
        const json& req = job->request;
        EXPECT_EQ(req["model"], id);
        EXPECT_EQ(req["prompt"], "Move the square to the right.");
        EXPECT_EQ(req["duration"], "5s");
        EXPECT_EQ(req["resolution"], "720p");
        EXPECT_EQ(req["aspect_ratio"], "16:9");
        EXPECT_EQ(req["keyframes"]["frame0"]["type"], "image");
        const std::string url = req["keyframes"]["frame0"]["url"].get<std::string>();
        EXPECT_EQ(url.rfind(api.url() + "/s3/vmeval-test/vmeval/", 0), 0u) << url;
        EXPECT_NE(url.find("/first_frame.png?"), std::string::npos) << url;
        EXPECT_NE(url.find("X-Amz-Expires=21600"), std::string::npos) << url;
        EXPECT_EQ(url.substr(0, url.find('?')), recorded_url);
        EXPECT_EQ(png_size(job->image), std::make_pair(640, 360));
        EXPECT_EQ(api.context().object_count(), 0u) << "the uploaded first frame was not deleted";
    }
    expect_no_secrets(tmp / "out");
}

TEST(LumaRun, ParametersAreSentAndTheImageFitsTheRatio) {
    LumaMockApi api;
    TempDir tmp;
    Params p;
    p.set("duration", "9");
    p.set("resolution", "1080p");
    p.set("aspect_ratio", "auto");
    p.set("loop", "true");
    auto r = run_luma(tmp / "out", image(tmp, 360, 640), "Go.", "luma-ray-flash-2", p);
    ASSERT_TRUE(r.success) << r.error_message;
    auto job = api.context().find(r.metadata["provider"]["job_id"].get<std::string>());
    ASSERT_TRUE(job);
    EXPECT_EQ(job->request["duration"], "9s");
    EXPECT_EQ(job->request["resolution"], "1080p");
    EXPECT_EQ(job->request["aspect_ratio"], "9:16");
    EXPECT_EQ(job->request["loop"], true);
    EXPECT_EQ(r.metadata["parameters"]["duration_s"], 9);

    // The default 16:9 with a 4:3 image: letterboxed (not scaled) so that Luma sees all of it.
    auto boxed = run_luma(tmp / "out2", image(tmp, 64, 48, "small.png"), "Go.");
    ASSERT_TRUE(boxed.success) << boxed.error_message;
    EXPECT_EQ(boxed.metadata["parameters"]["image_width"], 85);
    EXPECT_EQ(boxed.metadata["parameters"]["image_height"], 48);
    EXPECT_EQ(boxed.metadata["parameters"]["image_letterboxed"], true);
    auto job2 = api.context().find(boxed.metadata["provider"]["job_id"].get<std::string>());
    ASSERT_TRUE(job2);
    EXPECT_EQ(png_size(job2->image), std::make_pair(85, 48));
}

TEST(LumaRun, WrongKeyIsAConfigErrorNamingTheVariable) {
    auto o = MockApi::fast_options();
    o.required_key = "the-only-accepted-key";
    LumaMockApi api(o);
    TempDir tmp;
    auto r = run_luma(tmp / "out", image(tmp), "Go.");
    ASSERT_FALSE(r.success);
    EXPECT_EQ(error_code(r), "config") << r.error_message;
    EXPECT_NE(r.error_message.find("LUMA_API_KEY"), std::string::npos) << r.error_message;
    EXPECT_NE(r.error_message.find("Invalid API key is provided"), std::string::npos)
        << r.error_message;
    EXPECT_EQ(r.error_message.find(MockApi::kLumaKey), std::string::npos);
    EXPECT_EQ(api.context().object_count(), 0u) << "the upload outlived a refused create";
    expect_no_secrets(tmp / "out");
}

TEST(LumaRun, ARefusedUploadIsAConfigErrorNamingTheAwsVariables) {
    LumaMockApi api;
    TempDir tmp;
    const auto& info = *vmeval::registry::find_model("luma-ray-2");
    auto model = vmeval::registry::create_model(info, {});
    // The mock's S3 now knows another secret: our signature no longer matches.
    ScopedEnv env;
    env.set("AWS_SECRET_ACCESS_KEY", "the-server-has-another-secret");
    vmeval::video::Image img = vmeval::video::load_png(image(tmp));
    vmeval::GenerationRequest req;
    req.first_frame = &img;
    req.prompt = "Go.";
    req.video_path = tmp / "video.mp4";
    try {
        model->generate(req);
        ADD_FAILURE() << "generated with a refused upload";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Config) << e.what();
        std::string m = e.what();
        EXPECT_NE(m.find("SignatureDoesNotMatch"), std::string::npos) << m;
        EXPECT_NE(m.find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << m;
        EXPECT_EQ(m.find(MockApi::kAwsSecret), std::string::npos) << m;
    }
    EXPECT_EQ(api.context().object_count(), 0u);
}

TEST(LumaRun, PublicDirModeSendsTheFolderUrlAndRemovesTheFile) {
    // The mock never goes on the network, so it cannot fetch from a user's web server: it answers
    // 400 naming the URL it was given, which shows the URL we composed, and the file must be gone.
    LumaMockApi api;
    TempDir tmp;
    fs::create_directories(tmp / "public");
    ScopedEnv env;
    env.set("VMEVAL_PUBLIC_IMAGE_DIR", (tmp / "public").string());
    env.set("VMEVAL_PUBLIC_IMAGE_BASE_URL", "https://images.example.org/vmeval/");
    auto r = run_luma(tmp / "out", image(tmp), "Go.");
    ASSERT_FALSE(r.success);
    EXPECT_EQ(error_code(r), "http") << r.error_message;
    EXPECT_NE(r.error_message.find("cannot fetch external URLs"), std::string::npos)
        << r.error_message;
    EXPECT_TRUE(std::regex_search(
        r.error_message,
        std::regex(R"(https://images\.example\.org/vmeval/vmeval-[0-9T]{15}-[0-9a-f]{16}\.png)")))
        << r.error_message;
    EXPECT_TRUE(fs::is_empty(tmp / "public")) << "the published first frame was left behind";
    EXPECT_EQ(api.context().object_count(), 0u)
        << "S3 was used although a public folder was configured";
}

TEST(LumaRun, TransientFaultsAreRecovered) {
    LumaMockApi api;
    TempDir tmp;
    ScopedEnv env;
    env.set("VMEVAL_HTTP_RETRY_BASE_S", "0.01");
    fs::path img = image(tmp);
    int i = 0;
    for (const char* fault :
         {"create-429@1", "poll-500@1", "poll-malformed@1", "download-truncate@1"}) {
        auto r = run_luma(tmp / ("out" + std::to_string(i++)), img,
                          std::string("Go. [mock-fault:") + fault + "]");
        EXPECT_TRUE(r.success) << fault << ": " << r.error_message;
        if (std::string(fault) == "create-429@1" && r.success) {
            EXPECT_GE(r.metadata["provider"]["retries"].get<int>(), 1);
        }
    }
    EXPECT_EQ(api.context().object_count(), 0u);
}

TEST(LumaRun, FailuresEndWithTheirCodeAndCleanUp) {
    LumaMockApi api;
    TempDir tmp;
    ScopedEnv env;
    env.set("VMEVAL_HTTP_RETRY_BASE_S", "0.01");
    env.set("VMEVAL_HTTP_MAX_ATTEMPTS", "3");
    env.set("VMEVAL_JOB_TIMEOUT_S", "0.5");
    fs::path img = image(tmp);
    const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
        {"create-500@10", "http", "internal error (mock)"},
        {"moderation", "content_filtered", "400: failed to moderate image"},
        {"job-failed", "generation", "mock fault job-failed"},
        {"stuck", "timeout", "dreaming"},
        {"download-truncate", "network", ""},
    };
    int i = 0;
    for (const auto& [fault, code, text] : cases) {
        fs::path out = tmp / ("out" + std::to_string(i++));
        auto r = run_luma(out, img, "Go. [mock-fault:" + fault + "]");
        ASSERT_FALSE(r.success) << fault;
        EXPECT_EQ(error_code(r), code) << fault << ": " << r.error_message;
        EXPECT_NE(r.error_message.find(text), std::string::npos)
            << fault << ": " << r.error_message;
        EXPECT_EQ(api.context().object_count(), 0u) << fault << ": the upload was left behind";
        ASSERT_FALSE(r.run_dir.empty()) << fault;
        for (const auto& e : fs::recursive_directory_iterator(r.run_dir / "video")) {
            ADD_FAILURE() << fault << ": left " << e.path();
        }
        if (fault == "stuck") {
            // A timed-out job is deleted at Luma so that it stops costing.
            auto job = api.context().find(job_in(r.error_message));
            ASSERT_TRUE(job) << r.error_message;
            EXPECT_TRUE(job->cancelled);
        }
    }
    expect_no_secrets(tmp.path());
}

TEST(LumaMock, SpeaksLumasErrorsAndS3sXml) {
    LumaMockApi api;
    httplib::Client c(api.url());
    const std::string base = vmeval::mock::kLumaPrefix;
    httplib::Headers auth = {{"Authorization", std::string("Bearer ") + MockApi::kLumaKey}};

    auto r =
        c.Post((base + "/generations/video").c_str(), R"({"model":"ray-2"})", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(json::parse(r->body), json({{"detail", "Invalid API key is provided"}}));

    json body = {
        {"model", "ray-2"},
        {"duration", "7s"},
        {"keyframes", {{"frame0", {{"type", "image"}, {"url", "https://example.org/a.png"}}}}}};
    r = c.Post((base + "/generations").c_str(), auth, body.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_NE(json::parse(r->body)["detail"].get<std::string>().find("duration"),
              std::string::npos);

    body["duration"] = "5s";
    r = c.Post((base + "/generations/video").c_str(), auth, body.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_NE(r->body.find("cannot fetch external URLs"), std::string::npos) << r->body;

    r = c.Get((base + "/generations/no-such-id").c_str(), auth);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);

    // S3: unsigned and mis-hashed uploads are refused in S3's XML.
    r = c.Put("/s3/vmeval-test/k.png", "x", "image/png");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
    EXPECT_NE(r->body.find("<Code>AccessDenied</Code>"), std::string::npos) << r->body;
    s3::Credentials cred;
    cred.access_key = MockApi::kAwsAccess;
    cred.secret_key = MockApi::kAwsSecret;
    httplib::Headers signed_headers;
    for (const auto& h :
         s3::authorization_headers(cred, "PUT", api.url() + "/s3/vmeval-test/k.png",
                                   vmeval::sha256_hex("other"), std::time(nullptr))) {
        signed_headers.emplace(h.name, h.value);
    }
    r = c.Put("/s3/vmeval-test/k.png", signed_headers, "x", "application/octet-stream");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_NE(r->body.find("<Code>XAmzContentSHA256Mismatch</Code>"), std::string::npos) << r->body;
    EXPECT_EQ(api.context().object_count(), 0u);
}

TEST(LumaBinary, GenerateThroughTheCliLeavesNoSecrets) {
    LumaMockApi api;
    TempDir tmp;
    vmeval::testkit::make_question(tmp / "q", "maze", "maze_0000", true, 640, 360);
    auto r =
        vmeval::testkit::run_vmeval({"-v", "generate", "--questions-dir", (tmp / "q").string(),
                                     "--output-dir", (tmp / "out").string(), "-m", "luma-ray-2"},
                                    api.child_env());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    bool found = false;
    for (const auto& e : fs::recursive_directory_iterator(tmp / "out")) {
        if (e.path().filename() != "generated_video.mp4") continue;
        found = true;
        EXPECT_GT(vmeval::video::probe_video(e.path()).frames, 0);
        json meta = json::parse(slurp(e.path().parent_path().parent_path() / "metadata.json"));
        EXPECT_EQ(meta["status"], "success");
        EXPECT_EQ(meta["parameters"]["model"], "ray-2");
        EXPECT_EQ(meta["provider"]["final_state"], "completed");
    }
    EXPECT_TRUE(found);
    EXPECT_EQ(api.context().object_count(), 0u);
    expect_no_secrets(tmp / "out", {r.out, r.err});
}

}  // namespace
