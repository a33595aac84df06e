// `vmeval pull` end to end: the real binary against the mock Hub of an in-process mock server.
#include <gtest/gtest.h>

#include "mock/mock_server.hpp"
#include "support/testkit.hpp"
#include "vmeval/core/hash.hpp"
#include "vmeval/weights/checkpoint.hpp"
#include "vmeval/weights/hub_cache.hpp"
#include "vmeval/weights/safetensors.hpp"

namespace vmeval::testkit {
namespace {

namespace fs = std::filesystem;
const std::string kSvdRepo = "stabilityai/stable-video-diffusion-img2vid-xt";

class Pull : public ::testing::Test {
protected:
    void start(const std::string& faults = "") {
        mock::MockOptions o;
        o.port = 0;
        o.faults = faults;
        server_ = std::make_unique<mock::MockServer>(o);
        server_->start();
    }
    CommandResult pull(std::vector<std::string> args, std::vector<std::string> env = {}) {
        args.insert(args.begin(), "pull");
        env.push_back("HF_ENDPOINT=" + server_->url() + "/hub");
        env.push_back("HF_HUB_CACHE=" + (home_ / "hub").string());
        env.push_back("HF_TOKEN=");
        env.push_back("HUGGING_FACE_HUB_TOKEN=");
        env.push_back("HF_HUB_OFFLINE=0");
        env.push_back("VMEVAL_PULL_FREE_BYTES=");
        return run_vmeval(args, env);
    }
    fs::path snapshot() {
        ScopedEnv cache("HF_HUB_CACHE", (home_ / "hub").string());
        auto s = weights::find_snapshot(kSvdRepo);
        return s ? *s : fs::path();
    }
    TempDir home_;
    std::unique_ptr<mock::MockServer> server_;
};

const std::vector<std::string> kSvdFiles = {"model_index.json",
                                            "feature_extractor/preprocessor_config.json",
                                            "feature_extractor/special_tokens_map.json",
                                            "image_encoder/config.json",
                                            "image_encoder/model.fp16.safetensors",
                                            "scheduler/scheduler_config.json",
                                            "unet/config.json",
                                            "unet/diffusion_pytorch_model.fp16.safetensors",
                                            "vae/config.json",
                                            "vae/diffusion_pytorch_model.fp16.safetensors"};

void expect_complete_svd(const fs::path& snap) {
    ASSERT_FALSE(snap.empty()) << "find_snapshot did not find the pulled repository";
    size_t n = 0;
    for (auto it = fs::recursive_directory_iterator(snap); it != fs::recursive_directory_iterator();
         ++it) {
        if (!it->is_directory()) ++n;
    }
    EXPECT_EQ(n, kSvdFiles.size());
    for (const auto& f : kSvdFiles)
        EXPECT_TRUE(fs::is_symlink(snap / f) && fs::is_regular_file(snap / f)) << f;
    EXPECT_FALSE(fs::exists(snap / "svd_xt.safetensors"));
    EXPECT_FALSE(fs::exists(snap / "unet/diffusion_pytorch_model.safetensors"));
    // Blobs are named by their SHA-256 (LFS files), so the content check is the name.
    auto unet = fs::canonical(snap / "unet/diffusion_pytorch_model.fp16.safetensors");
    EXPECT_EQ(sha256_file(unet), unet.filename().string());
    // What the model loader does: pick each component's fp16 weights and read their headers.
    for (const char* component : {"unet", "vae", "image_encoder"}) {
        auto picked = weights::select_weights(snap / component, "fp16");
        ASSERT_EQ(picked.files.size(), 1u) << component;
        auto header = weights::read_header(picked.files[0]);
        ASSERT_EQ(header.tensors.size(), 1u) << component;
        EXPECT_EQ(header.tensors[0].dtype, weights::DType::F16) << component;
    }
}

TEST_F(Pull, FullPullThenSecondPullDownloadsNothing) {
    start();
    auto r = pull({"svd", "--jobs", "3"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("downloaded 10 file(s)"), std::string::npos) << r.out;
    expect_complete_svd(snapshot());
    int served = mock::hub_file_requests();

    auto again = pull({"svd"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_NE(again.out.find("downloaded 0 file(s), 0 B; 10 already present"), std::string::npos)
        << again.out;
    EXPECT_EQ(mock::hub_file_requests(), served);
}

TEST_F(Pull, DryRunListsFilesAndSize) {
    start();
    auto r = pull({"svd", "--dry-run"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("unet/diffusion_pytorch_model.fp16.safetensors"), std::string::npos);
    EXPECT_EQ(r.out.find("svd_xt.safetensors"), std::string::npos);
    EXPECT_NE(r.out.find("to download: 336."), std::string::npos) << r.out;
    EXPECT_TRUE(snapshot().empty());
}

TEST_F(Pull, InterruptedTransferResumes) {
    start("hub-drop@1");
    int ranges = mock::hub_range_requests();
    auto r = pull({"svd", "--jobs", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("transfer broke off"), std::string::npos) << r.err;
    EXPECT_EQ(mock::hub_range_requests(),
              ranges + 1);  // the broken file went on from where it stopped
    expect_complete_svd(snapshot());
}

TEST_F(Pull, PartialFileFromEarlierRunIsResumed) {
    start();
    auto blobs = weights::repo_cache_dir(kSvdRepo, home_ / "hub") / "blobs";
    auto full = pull({"svd"});
    ASSERT_EQ(full.exit_code, 0) << full.err;
    // Start again from half of the UNet blob, as a killed pull leaves it.
    auto unet = fs::canonical(snapshot() / "unet/diffusion_pytorch_model.fp16.safetensors");
    std::string bytes = read_text(unet);
    fs::remove_all(home_ / "hub");
    write_text(blobs / (unet.filename().string() + ".incomplete"),
               bytes.substr(0, bytes.size() / 2));
    int ranges = mock::hub_range_requests();
    auto r = pull({"svd", "--jobs", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("resuming at 128.0 KiB"), std::string::npos) << r.err;
    EXPECT_EQ(mock::hub_range_requests(), ranges + 1);
    expect_complete_svd(snapshot());
}

TEST_F(Pull, CorruptedDownloadIsDetectedAndRedone) {
    start("hub-corrupt@1");
    auto r = pull({"svd"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("corrupted download"), std::string::npos) << r.err;
    expect_complete_svd(snapshot());
}

TEST_F(Pull, GatedRepositoryWithoutTokenSaysWhatToDo) {
    start();
    auto r = pull({"vmeval-test/gated-tiny"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE((r.out + r.err).find("gated repository vmeval-test/gated-tiny: accept its licence"),
              std::string::npos)
        << r.out << r.err;
    auto ok = pull({"vmeval-test/gated-tiny"}, {"HF_TOKEN=hf_secret_token_value"});
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ((ok.out + ok.err).find("hf_secret_token_value"), std::string::npos);
}

TEST_F(Pull, OfflineUsesOnlyTheCache) {
    start();
    auto missing = pull({"svd"}, {"HF_HUB_OFFLINE=1"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.err.find("HF_HUB_OFFLINE is set"), std::string::npos) << missing.err;
    ASSERT_EQ(pull({"svd"}).exit_code, 0);
    int served = mock::hub_file_requests();
    auto ok = pull({"svd"}, {"HF_HUB_OFFLINE=1"});
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ(mock::hub_file_requests(), served);
}

TEST_F(Pull, RefusesWhenTheDiskIsTooSmall) {
    start();
    int served = mock::hub_file_requests();
    auto r = pull({"svd"}, {"VMEVAL_PULL_FREE_BYTES=1000"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("not enough disk space"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("1000 B is free"), std::string::npos) << r.err;
    EXPECT_EQ(mock::hub_file_requests(), served);
}

TEST_F(Pull, PlainFolderWithDir) {
    start();
    auto r = pull({"svd", "--dir", (home_ / "weights").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto root = home_ / "weights" / "stabilityai--stable-video-diffusion-img2vid-xt";
    for (const auto& f : kSvdFiles) EXPECT_TRUE(fs::is_regular_file(root / f)) << f;
}

TEST_F(Pull, ModelsWithoutDiffusersRepoSayWhereToGetWeights) {
    start();
    auto r = pull({"dynamicrafter-512"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(
        r.out.find("https://huggingface.co/Doubiiu/DynamiCrafter_512/resolve/main/model.ckpt"),
        std::string::npos)
        << r.out;
}

}  // namespace
}  // namespace vmeval::testkit
