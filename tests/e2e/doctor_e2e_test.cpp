// `vmeval doctor` through the real binary, with a stand-in nvidia-smi on PATH so that the GPU
// lines do not depend on the machine the tests run on.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <sstream>
#include <string>
#include <vector>

#include "support/testkit.hpp"

namespace {

using vmeval::testkit::run_vmeval;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_text;
namespace fs = std::filesystem;

/// A bin folder whose nvidia-smi prints `csv` (or fails when empty), for PATH.
fs::path fake_nvidia_smi(const TempDir& dir, const std::string& csv) {
    fs::path bin = dir / "bin";
    fs::create_directories(bin);
    std::string script = csv.empty() ? "#!/bin/sh\nexit 9\n" : "#!/bin/sh\ncat <<'EOF'\n" + csv + "EOF\n";
    write_text(bin / "nvidia-smi", script);
    ::chmod((bin / "nvidia-smi").c_str(), 0755);
    return bin;
}

/// No keys from the caller's environment, an empty Hugging Face cache, our nvidia-smi first, and
/// both fake GPUs visible; `extra` entries ("NAME=value") replace these.
std::vector<std::string> clean_env(const TempDir& dir, const fs::path& bin, std::vector<std::string> extra = {}) {
    std::vector<std::string> env{"PATH=" + bin.string() + ":/usr/bin:/bin", "HF_HOME=" + (dir / "hf").string(),
                                 "HF_HUB_CACHE=", "GEMINI_API_KEY=", "LUMA_API_KEY=", "AWS_S3_BUCKET=",
                                 "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "VMEVAL_PUBLIC_IMAGE_DIR=",
                                 "VMEVAL_PUBLIC_IMAGE_BASE_URL=", "CUDA_VISIBLE_DEVICES=0,1"};
    for (const auto& e : extra) {
        std::string name = e.substr(0, e.find('=') + 1);
        for (auto& have : env) {
            if (have.rfind(name, 0) == 0) have = e;
        }
    }
    return env;
}

std::vector<std::string> args(const TempDir& dir, const std::string& models) {
    return {"--env-file", (dir / "none.env").string(), "doctor", "-m", models};
}

TEST(DoctorE2E, NoKeysNoGpuEveryProblemNamesItsFix) {
    TempDir dir;
    auto env = clean_env(dir, fake_nvidia_smi(dir, ""));
    auto r = run_vmeval(args(dir, "baseline-still,veo-3.1-generate,svd,luma-ray-2,dynamicrafter-512"), env);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.out.find("GPUs: none (nvidia-smi failed:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("baseline-still (baseline): ready"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("veo-3.1-generate (api): NOT READY"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("[missing] GEMINI_API_KEY: not set"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("fix: vmeval pull svd"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("[warn] GPU: none"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1 of 5 model(s) ready"), std::string::npos) << r.out;
    // Every line that reports a problem is followed by its fix.
    std::istringstream lines(r.out);
    std::string line, previous;
    bool expect_fix = false;
    while (std::getline(lines, line)) {
        if (expect_fix) {
            EXPECT_NE(line.find("fix: "), std::string::npos) << "no fix after: " << previous;
        }
        expect_fix = line.find("[missing]") != std::string::npos || line.find("[warn]") != std::string::npos;
        previous = line;
    }
    EXPECT_FALSE(expect_fix);
}

TEST(DoctorE2E, KeysAreCheckedByNameAndNeverPrinted) {
    TempDir dir;
    auto env = clean_env(dir, fake_nvidia_smi(dir, ""),
                         {"GEMINI_API_KEY=sekrit-value-123", "LUMA_API_KEY=sekrit-value-456"});
    auto r = run_vmeval(args(dir, "veo-3.1-generate,luma-ray-2"), env);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.out.find("veo-3.1-generate (api): ready"), std::string::npos) << r.out;
    // Luma has its key but no way to publish the first frame: the same refusal `generate` gives.
    EXPECT_NE(r.out.find("luma-ray-2 (api): NOT READY"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("AWS_S3_BUCKET"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("sekrit"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("sekrit"), std::string::npos) << r.err;

    auto json_run = run_vmeval({"--env-file", (dir / "none.env").string(), "doctor", "--json", "-m", "veo-3.1-generate"}, env);
    EXPECT_EQ(json_run.exit_code, 0) << json_run.err;
    EXPECT_NE(json_run.out.find("\"ready\": true"), std::string::npos) << json_run.out;
    EXPECT_EQ(json_run.out.find("sekrit"), std::string::npos);
}

TEST(DoctorE2E, GpuMemoryIsComparedWithTheModelsNeedOnVisibleGpusOnly) {
    TempDir dir;
    auto bin = fake_nvidia_smi(dir, "0, NVIDIA H100 80GB HBM3, 81559, 80000\n1, Tesla T4, 15360, 15000\n");
    auto env = clean_env(dir, bin);
    auto both = run_vmeval(args(dir, "wan-2.2-ti2v-5b"), env);
    EXPECT_NE(both.out.find("GPUs: 0 NVIDIA H100 80GB HBM3 79.6 GiB, 1 Tesla T4 15.0 GiB"), std::string::npos)
        << both.out;
    EXPECT_NE(both.out.find("[ok] GPU memory: GPU 0 NVIDIA H100"), std::string::npos) << both.out;

    env = clean_env(dir, bin, {"CUDA_VISIBLE_DEVICES=1"});
    auto t4 = run_vmeval(args(dir, "wan-2.2-ti2v-5b"), env);
    EXPECT_NE(t4.out.find("[warn] GPU memory: GPU 1 Tesla T4, 15.0 GiB"), std::string::npos) << t4.out;
    EXPECT_NE(t4.out.find("needs about 23.0 GiB"), std::string::npos) << t4.out;
}

TEST(DoctorE2E, FindsWeightsInTheHuggingFaceCache) {
    TempDir dir;
    auto env = clean_env(dir, fake_nvidia_smi(dir, ""));
    fs::path repo = dir / "hf/hub/models--stabilityai--stable-video-diffusion-img2vid-xt";
    write_text(repo / "refs/main", "0123456789abcdef0123456789abcdef01234567");
    write_text(repo / "snapshots/0123456789abcdef0123456789abcdef01234567/model_index.json", "{}");
    auto r = run_vmeval(args(dir, "svd"), env);
    EXPECT_NE(r.out.find("[ok] weights stabilityai/stable-video-diffusion-img2vid-xt"), std::string::npos) << r.out;
    // With the LibTorch backend built, the model's own file check runs too and names what the
    // snapshot lacks (here everything but model_index.json), without loading any weights.
    if (r.out.find("[ok] backend: built (LibTorch backend module)") != std::string::npos) {
        EXPECT_EQ(r.exit_code, 1) << r.out;
        EXPECT_NE(r.out.find("[missing] weight files: "), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("is incomplete: missing unet/config.json"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("fix: vmeval pull svd"), std::string::npos) << r.out;
    }
}

}  // namespace
