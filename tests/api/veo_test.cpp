// Google Veo (Gemini API) client against the mock: request mapping, image padding, local
// validation, error mapping and the fault catalogue.

#include <gtest/gtest.h>
#include <httplib.h>
#include <stb_image.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

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

/// Sets (or unsets, for null) an environment variable for one scope.
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

struct Decoded {
    int width = 0, height = 0;
    std::vector<unsigned char> rgb;
};

Decoded decode(const std::string& bytes) {
    Decoded d;
    int n = 0;
    unsigned char* px =
        stbi_load_from_memory(reinterpret_cast<const unsigned char*>(bytes.data()),
                              static_cast<int>(bytes.size()), &d.width, &d.height, &n, 3);
    if (px) {
        d.rgb.assign(px, px + static_cast<size_t>(d.width) * d.height * 3);
        stbi_image_free(px);
    }
    return d;
}

class VeoApi : public ::testing::Test {
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

    /// The mock's record of the job behind a run.
    std::shared_ptr<vmeval::mock::Job> job_of(const RunResult& r) {
        std::string name = r.metadata["provider"].value("job_id", "");
        return api_->context().find(name.substr(name.rfind('/') + 1));
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

// ---- every catalog model, through the runner ---------------------------------------------------

class VeoCatalog : public VeoApi, public ::testing::WithParamInterface<const char*> {};

TEST_P(VeoCatalog, GeneratesThroughTheRunnerWithTheCatalogModelId) {
    const registry::ModelInfo& info = catalog(GetParam());
    RunResult r = run(GetParam());
    ASSERT_TRUE(r.success) << r.error_message;
    auto probe = vmeval::video::probe_video(r.video_path);
    EXPECT_GT(probe.frames, 0);

    const json& p = r.metadata["parameters"];
    EXPECT_EQ(p["model"], info.provider_model_id);
    EXPECT_EQ(p["aspect_ratio"], "16:9");
    EXPECT_EQ(p["duration_s"], 8);
    EXPECT_EQ(p["width"], 1280);
    EXPECT_EQ(p["height"], 720);
    EXPECT_EQ(p["image_width"], 96);  // 64x48 padded to the smallest 16:9 canvas: 96x54
    EXPECT_EQ(p["image_height"], 54);
    EXPECT_FALSE(p.contains("seed"));
    const json& prov = r.metadata["provider"];
    EXPECT_EQ(prov["job_id"].get<std::string>().rfind(
                  std::string("models/") + info.provider_model_id + "/operations/", 0),
              0u)
        << prov.dump();
    EXPECT_EQ(prov["final_state"], "done");
    EXPECT_GE(prov["polls"].get<int>(), 1);

    auto job = job_of(r);
    ASSERT_TRUE(job);
    EXPECT_EQ(job->model, info.provider_model_id);
    const json& body = job->request;
    EXPECT_EQ(body["instances"][0]["prompt"], "The knight moves to f3.");
    EXPECT_EQ(body["instances"][0]["image"]["mimeType"], "image/png");
    EXPECT_EQ(body["parameters"], json({{"aspectRatio", "16:9"}, {"durationSeconds", 8}}));
    EXPECT_FALSE(body["_mock"]["key_in_query"].get<bool>())
        << "the key must travel in x-goog-api-key";
    EXPECT_EQ(r.metadata.dump().find(MockApi::kGeminiKey), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(VeoModels, VeoCatalog,
                         ::testing::Values("veo-2", "veo-2.0-generate", "veo-3.0-generate",
                                           "veo-3.0-fast-generate", "veo-3.1-generate"),
                         [](const auto& param_info) {
                             std::string s = param_info.param;
                             for (char& c : s) {
                                 c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                             }
                             return s;
                         });

TEST(VeoCatalogIds, MapToGeminiApiModelIds) {
    EXPECT_STREQ(catalog("veo-2").provider_model_id, "veo-2.0-generate-001");
    EXPECT_STREQ(catalog("veo-2.0-generate").provider_model_id, "veo-2.0-generate-001");
    EXPECT_STREQ(catalog("veo-3.0-generate").provider_model_id, "veo-3.0-generate-001");
    EXPECT_STREQ(catalog("veo-3.0-fast-generate").provider_model_id, "veo-3.0-fast-generate-001");
    // The original's veo-3.1-generate-001 is a Vertex id that the Gemini API answers with 404.
    EXPECT_STREQ(catalog("veo-3.1-generate").provider_model_id, "veo-3.1-generate-preview");
}

// ---- image preparation and parameters --------------------------------------------------------

TEST_F(VeoApi, PortraitImageIsSentAs9x16PaddedWithWhite) {
    RunResult r = run("veo-3.0-fast-generate", "Portrait.", {}, 48, 64);
    ASSERT_TRUE(r.success) << r.error_message;
    EXPECT_EQ(r.metadata["parameters"]["aspect_ratio"], "9:16");
    EXPECT_EQ(r.metadata["parameters"]["width"], 720);
    EXPECT_EQ(r.metadata["parameters"]["height"], 1280);
    auto job = job_of(r);
    ASSERT_TRUE(job);
    EXPECT_EQ(job->request["parameters"]["aspectRatio"], "9:16");
    Decoded img = decode(job->image);
    EXPECT_EQ(img.width, 54);
    EXPECT_EQ(img.height, 96);
    EXPECT_EQ(img.width * 16, img.height * 9);
    // Top-left corner: a white bar (the 48x64 image scaled to 54x72 sits centred vertically).
    ASSERT_FALSE(img.rgb.empty());
    EXPECT_EQ(img.rgb[0], 255);
    EXPECT_EQ(img.rgb[1], 255);
    EXPECT_EQ(img.rgb[2], 255);
}

TEST_F(VeoApi, AspectRatioParamOverridesTheAutomaticChoice) {
    RunResult r = run("veo-2", "Forced landscape.", params({{"aspect_ratio", "16:9"}}), 48, 64);
    ASSERT_TRUE(r.success) << r.error_message;
    auto job = job_of(r);
    ASSERT_TRUE(job);
    EXPECT_EQ(job->request["parameters"]["aspectRatio"], "16:9");
    Decoded img = decode(job->image);
    EXPECT_EQ(img.width * 9, img.height * 16) << img.width << "x" << img.height;
}

TEST_F(VeoApi, LargeImagesAreScaledDownToAt1280x720) {
    RunResult r = run("veo-2", "Big.", {}, 2000, 1000);
    ASSERT_TRUE(r.success) << r.error_message;
    Decoded img = decode(job_of(r)->image);
    EXPECT_EQ(img.width, 1280);
    EXPECT_EQ(img.height, 720);
    RunResult exact = run("veo-2", "Exact.", {}, 1280, 720);
    ASSERT_TRUE(exact.success) << exact.error_message;
    EXPECT_EQ(exact.metadata["parameters"]["image_width"], 1280);
    EXPECT_EQ(exact.metadata["parameters"]["image_height"], 720);
}

TEST_F(VeoApi, DurationResolutionAndNegativePromptAreSent) {
    RunResult r =
        run("veo-3.1-generate", "Params.",
            params({{"duration", "8"}, {"resolution", "1080p"}, {"negative_prompt", "blurry"}}));
    ASSERT_TRUE(r.success) << r.error_message;
    EXPECT_EQ(job_of(r)->request["parameters"], json({{"aspectRatio", "16:9"},
                                                      {"durationSeconds", 8},
                                                      {"negativePrompt", "blurry"},
                                                      {"resolution", "1080p"}}));
    EXPECT_EQ(r.metadata["parameters"]["resolution"], "1080p");
    EXPECT_EQ(r.metadata["parameters"]["width"], 1920);
    EXPECT_EQ(r.metadata["parameters"]["negative_prompt"], "blurry");

    RunResult v2 = run("veo-2", "Five seconds.", params({{"duration", "5"}}));
    ASSERT_TRUE(v2.success) << v2.error_message;
    EXPECT_EQ(job_of(v2)->request["parameters"]["durationSeconds"], 5);
    EXPECT_EQ(v2.metadata["parameters"]["duration_s"], 5);
}

TEST_F(VeoApi, BadParamsAreRefusedBeforeAnyRequest) {
    auto code_of = [](const char* model, Params p) -> std::optional<ErrorCode> {
        try {
            registry::create_model(catalog(model), p);
        } catch (const Error& e) {
            return e.code();
        }
        return std::nullopt;
    };
    EXPECT_EQ(code_of("veo-2", params({{"duration", "4"}})), ErrorCode::Usage);
    EXPECT_EQ(code_of("veo-2", params({{"duration", "9"}})), ErrorCode::Usage);
    EXPECT_EQ(code_of("veo-2", params({{"resolution", "720p"}})), ErrorCode::Usage);
    EXPECT_EQ(code_of("veo-3.0-generate", params({{"duration", "5"}})), ErrorCode::Usage);
    EXPECT_EQ(code_of("veo-3.0-generate", params({{"resolution", "4k"}})), ErrorCode::Usage);
    EXPECT_EQ(
        code_of("veo-3.0-generate", params({{"resolution", "1080p"}, {"aspect_ratio", "9:16"}})),
        ErrorCode::Usage);
    EXPECT_EQ(code_of("veo-3.1-generate", params({{"resolution", "4k"}, {"duration", "6"}})),
              ErrorCode::Usage);
    EXPECT_EQ(code_of("veo-3.1-generate", params({{"aspect_ratio", "1:1"}})), ErrorCode::Usage);
    EXPECT_EQ(code_of("veo-3.1-generate", params({{"seed", "3"}})), ErrorCode::Usage);
    EXPECT_EQ(code_of("veo-3.1-generate", params({{"generate_audio", "false"}})), ErrorCode::Usage);
    EXPECT_EQ(code_of("veo-3.1-generate", params({{"duration", "4"}, {"resolution", "720p"}})),
              std::nullopt);
    EXPECT_EQ(code_of("veo-2", params({{"duration", "7"}, {"aspect_ratio", "auto"}})),
              std::nullopt);
}

TEST_F(VeoApi, PortraitInputWith1080pOnVeo3IsAnInvalidQuestion) {
    RunResult r = run("veo-3.0-generate", "Tall.", params({{"resolution", "1080p"}}), 48, 64);
    EXPECT_FALSE(r.success);
    ASSERT_TRUE(r.error_code.has_value());
    EXPECT_EQ(*r.error_code, ErrorCode::InvalidQuestion) << r.error_message;
    EXPECT_NE(r.error_message.find("aspect_ratio=16:9"), std::string::npos) << r.error_message;
}

TEST_F(VeoApi, MissingKeyRefusesTheModel) {
    ScopedEnv unset("GEMINI_API_KEY", nullptr);
    try {
        registry::create_model(catalog("veo-2"), {});
        FAIL() << "created without a key";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::ModelUnavailable);
        EXPECT_NE(std::string(e.what()).find("GEMINI_API_KEY"), std::string::npos) << e.what();
    }
}

// ---- errors and faults ---------------------------------------------------------------------

TEST_F(VeoApi, WrongKeyIsAConfigErrorNamingTheVariable) {
    auto o = MockApi::fast_options();
    o.required_key = "the-right-gemini-key";
    restart(o);
    RunResult r = run("veo-2");
    expect_failed(r, ErrorCode::Config);
    EXPECT_NE(r.error_message.find("GEMINI_API_KEY"), std::string::npos) << r.error_message;
    EXPECT_NE(r.error_message.find("API key not valid"), std::string::npos) << r.error_message;
    EXPECT_EQ(r.error_message.find(MockApi::kGeminiKey), std::string::npos) << r.error_message;
    EXPECT_EQ(r.metadata.dump().find(MockApi::kGeminiKey), std::string::npos);
}

TEST_F(VeoApi, UnknownModelIdIsAnHttpErrorWithGooglesMessage) {
    registry::ModelInfo info = catalog("veo-2");
    info.provider_model_id = "veo-3.1-generate-001";  // the Vertex id the original used
    auto model = vmeval::api::make_veo(info, {});
    vmeval::video::Image img(64, 48);
    vmeval::GenerationRequest req;
    req.first_frame = &img;
    req.prompt = "x";
    req.video_path = dir_ / "v.mp4";
    try {
        model->generate(req);
        FAIL() << "generated with an unknown model id";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Http);
        EXPECT_NE(std::string(e.what()).find("HTTP 404"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("is not found for API version v1beta"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_FALSE(fs::exists(dir_ / "v.mp4"));
}

TEST_F(VeoApi, Create429IsRetried) {
    RunResult r = run("veo-2", "[mock-fault:create-429@1] Retry me.");
    ASSERT_TRUE(r.success) << r.error_message;
    EXPECT_GE(r.metadata["provider"]["retries"].get<int>(), 1);
}

TEST_F(VeoApi, PersistentCreate500FailsAsHttp) {
    ScopedEnv quick("VMEVAL_HTTP_RETRY_BASE_S", "0.01");  // five attempts, little waiting
    RunResult r = run("veo-2", "[mock-fault:create-500@10] Always broken.");
    expect_failed(r, ErrorCode::Http);
    EXPECT_NE(r.error_message.find("500"), std::string::npos) << r.error_message;
    EXPECT_NE(r.error_message.find("INTERNAL"), std::string::npos) << r.error_message;
}

TEST_F(VeoApi, PollFaultsAreRecovered) {
    RunResult a = run("veo-2", "[mock-fault:poll-500@1] Poll hiccup.");
    ASSERT_TRUE(a.success) << a.error_message;
    EXPECT_GE(a.metadata["provider"]["retries"].get<int>(), 1);
    RunResult b = run("veo-2", "[mock-fault:poll-malformed@1] Garbled poll.");
    ASSERT_TRUE(b.success) << b.error_message;
    // A status endpoint that keeps answering garbage is not waited on forever.
    RunResult c = run("veo-2", "[mock-fault:poll-malformed@4] Always garbled.");
    expect_failed(c, ErrorCode::Http);
    EXPECT_NE(c.error_message.find("malformed JSON"), std::string::npos) << c.error_message;
}

TEST_F(VeoApi, RaiFilterIsContentFilteredWithTheReason) {
    RunResult r = run("veo-3.0-generate", "[mock-fault:moderation] Filtered.");
    expect_failed(r, ErrorCode::ContentFiltered);
    EXPECT_NE(r.error_message.find("usage guidelines"), std::string::npos) << r.error_message;
}

TEST_F(VeoApi, OperationErrorIsAGenerationFailure) {
    RunResult r = run("veo-3.0-generate", "[mock-fault:job-failed] Broken job.");
    expect_failed(r, ErrorCode::Generation);
    EXPECT_NE(r.error_message.find("code 13"), std::string::npos) << r.error_message;
}

TEST_F(VeoApi, StuckJobTimesOut) {
    ScopedEnv timeout("VMEVAL_JOB_TIMEOUT_S", "0.5");
    RunResult r = run("veo-2", "[mock-fault:stuck] Forever.");
    expect_failed(r, ErrorCode::Timeout);
}

TEST_F(VeoApi, TruncatedDownloadLeavesNoVideo) {
    ScopedEnv quick("VMEVAL_HTTP_RETRY_BASE_S", "0.01");  // five attempts, little waiting
    RunResult r = run("veo-2", "[mock-fault:download-truncate] Half a file.");
    expect_failed(r, ErrorCode::Network);
}

TEST_F(VeoApi, MockRejectsVertexOnlyFieldsAndBadKeysLikeGemini) {
    httplib::Client c(api_->url());
    std::string path =
        std::string(vmeval::mock::kVeoPrefix) + "/models/veo-2.0-generate-001:predictLongRunning";
    json body = {
        {"instances",
         json::array(
             {{{"prompt", "p"},
               {"image", {{"bytesBase64Encoded", "iVBORw0KGgo="}, {"mimeType", "image/png"}}}}})},
        {"parameters", {{"seed", 1}}}};
    auto no_key = c.Post(path.c_str(), body.dump(), "application/json");
    ASSERT_TRUE(no_key);
    EXPECT_EQ(no_key->status, 403);
    EXPECT_EQ(json::parse(no_key->body)["error"]["status"], "PERMISSION_DENIED");
    httplib::Headers h = {{"x-goog-api-key", MockApi::kGeminiKey}};
    auto seed = c.Post(path.c_str(), h, body.dump(), "application/json");
    ASSERT_TRUE(seed);
    EXPECT_EQ(seed->status, 400);
    EXPECT_EQ(json::parse(seed->body)["error"]["status"], "INVALID_ARGUMENT");
}

// ---- the real binary ---------------------------------------------------------------------------

TEST_F(VeoApi, RealBinaryGeneratesAgainstTheMock) {
    fs::path questions = dir_ / "questions";
    vmeval::testkit::make_question(questions, "maze", "maze_0000", false, 64, 48);
    fs::path out = dir_ / "bin-out";
    auto r = vmeval::testkit::run_vmeval(
        {"--env-file", (dir_ / "none.env").string(), "generate", "--questions-dir",
         questions.string(), "--output-dir", out.string(), "-m", "veo-3.0-fast-generate"},
        api_->child_env());
    ASSERT_EQ(r.exit_code, 0) << r.out << "\n" << r.err;
    EXPECT_EQ(r.out.find(MockApi::kGeminiKey), std::string::npos);
    EXPECT_EQ(r.err.find(MockApi::kGeminiKey), std::string::npos);
    int videos = 0;
    for (const auto& e : fs::recursive_directory_iterator(out / "veo-3.0-fast-generate")) {
        if (e.path().filename() == "generated_video.mp4") {
            ++videos;
            EXPECT_GT(vmeval::video::probe_video(e.path()).frames, 0);
        }
        if (e.path().filename() == "metadata.json") {
            json m = json::parse(vmeval::testkit::read_text(e.path()));
            EXPECT_EQ(m["status"], "success");
            EXPECT_EQ(m["parameters"]["model"], "veo-3.0-fast-generate-001");
        }
    }
    EXPECT_EQ(videos, 1);
}
