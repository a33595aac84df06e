// Finding a pipeline's weights in a named folder or in the Hugging Face cache, and naming every
// missing file with the command that fetches it.
#include <gtest/gtest.h>

#include <fstream>

#include "models/torch/runtime/locate.hpp"
#include "support/testkit.hpp"
#include "torch/support/golden.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::nn {
namespace {

namespace fs = std::filesystem;
using testkit::ScopedEnv;
using testkit::TempDir;

const PipelineRequirement kNeed{"svd", "stabilityai/stable-video-diffusion-img2vid-xt", {"unet", "vae"},
                                {"scheduler"}, {}, "fp16"};

/// A pipeline folder with real (tiny) safetensors from the loader goldens.
void make_pipeline(const fs::path& root, bool with_vae) {
    auto golden = testing::golden_dir("loader");
    fs::create_directories(root / "scheduler");
    std::ofstream(root / "model_index.json") << "{}";
    std::ofstream(root / "scheduler" / "scheduler_config.json") << "{}";
    fs::create_directories(root / "unet");
    fs::copy(golden / "single", root / "unet", fs::copy_options::recursive);
    if (with_vae) fs::copy(golden / "variant", root / "vae", fs::copy_options::recursive);
}

std::string message_of(const PipelineRequirement& need, const std::string& dir) {
    try {
        locate_pipeline(need, dir);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::ModelUnavailable);
        return e.what();
    }
    ADD_FAILURE() << "locate_pipeline accepted an incomplete folder";
    return "";
}

TEST(Locate, ANamedFolderIsCheckedFileByFile) {
    TempDir tmp;
    make_pipeline(tmp.path() / "svd", true);
    EXPECT_EQ(locate_pipeline(kNeed, (tmp.path() / "svd").string()), tmp.path() / "svd");

    make_pipeline(tmp.path() / "half", false);
    fs::remove(tmp.path() / "half" / "scheduler" / "scheduler_config.json");
    auto why = message_of(kNeed, (tmp.path() / "half").string());
    EXPECT_NE(why.find("missing vae/config.json, vae/*.safetensors, scheduler/scheduler_config.json"), std::string::npos)
        << why;
    EXPECT_NE(why.find("copy the whole diffusers repository stabilityai/stable-video-diffusion-img2vid-xt"),
              std::string::npos)
        << why;
    why = message_of(kNeed, (tmp.path() / "nowhere").string());
    EXPECT_NE(why.find("does not exist"), std::string::npos) << why;
}

TEST(Locate, TheHuggingFaceCacheSnapshotIsUsedAndAnAbsentRepoSaysHowToPullIt) {
    TempDir tmp;
    ScopedEnv cache("HF_HUB_CACHE", (tmp.path() / "hub").string().c_str());
    auto why = message_of(kNeed, "");
    EXPECT_NE(why.find("vmeval pull svd"), std::string::npos) << why;
    EXPECT_NE(why.find((tmp.path() / "hub").string()), std::string::npos) << why;

    const std::string commit(40, 'a');
    auto repo = tmp.path() / "hub" / "models--stabilityai--stable-video-diffusion-img2vid-xt";
    fs::create_directories(repo / "refs");
    std::ofstream(repo / "refs" / "main") << commit;
    make_pipeline(repo / "snapshots" / commit, false);
    why = message_of(kNeed, "");
    EXPECT_NE(why.find("run `vmeval pull svd` to finish the download"), std::string::npos) << why;
    make_pipeline(repo / "snapshots" / "tmp", true);
    fs::copy(repo / "snapshots" / "tmp" / "vae", repo / "snapshots" / commit / "vae", fs::copy_options::recursive);
    EXPECT_EQ(locate_pipeline(kNeed, ""), repo / "snapshots" / commit);
}

}  // namespace
}  // namespace vmeval::nn
