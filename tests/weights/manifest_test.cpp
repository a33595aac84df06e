#include "vmeval/weights/manifest.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/registry/registry.hpp"
#include "vmeval/weights/hub_cache.hpp"

namespace vmeval::weights {
namespace {

using testkit::ScopedEnv;
using testkit::TempDir;

std::vector<std::string> paths_of(const std::vector<RemoteFile>& files) {
    std::vector<std::string> out;
    for (const auto& f : files) out.push_back(f.path);
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<RemoteFile> listing(const std::vector<std::string>& paths) {
    std::vector<RemoteFile> out;
    for (const auto& p : paths) out.push_back(RemoteFile{p, 1, "e", ""});
    return out;
}

TEST(Manifest, VariantsAndShardsAreRecognised) {
    EXPECT_EQ(weight_variant("unet/diffusion_pytorch_model.fp16.safetensors"), "fp16");
    EXPECT_EQ(weight_variant("t/diffusion_pytorch_model-00001-of-00002.fp16.safetensors"), "fp16");
    EXPECT_EQ(weight_variant("t/diffusion_pytorch_model.safetensors.index.bf16.json"), "bf16");
    EXPECT_EQ(weight_variant("t/diffusion_pytorch_model.safetensors.index.json"), "");
    EXPECT_EQ(weight_variant("t/diffusion_pytorch_model-00001-of-00002.safetensors"), "");
    EXPECT_EQ(weight_variant("unet/config.json"), "");
}

TEST(Manifest, GlobStarStaysInOneFolder) {
    EXPECT_TRUE(glob_match("*/*.json", "unet/config.json"));
    EXPECT_FALSE(glob_match("*/*.json", "a/b/config.json"));
    EXPECT_FALSE(glob_match("*/*.safetensors", "svd_xt.safetensors"));
}

TEST(Manifest, SvdTakesFp16FoldersAndSkipsRootCheckpoints) {
    auto m = manifest_for(*registry::find_model("svd"));
    ASSERT_EQ(m.repos.size(), 1u);
    auto chosen = select_files(
        m.repos[0],
        listing({"model_index.json", "README.md", ".gitattributes", "svd_xt.safetensors",
                 "svd_xt_image_decoder.safetensors", "unet/config.json",
                 "unet/diffusion_pytorch_model.safetensors",
                 "unet/diffusion_pytorch_model.fp16.safetensors", "image_encoder/model.safetensors",
                 "image_encoder/model.fp16.safetensors", "scheduler/scheduler_config.json",
                 // A folder published without the variant falls back to its plain weights.
                 "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
                 "vae/diffusion_pytorch_model.bin"}));
    EXPECT_EQ(paths_of(chosen), (std::vector<std::string>{
                                    "image_encoder/model.fp16.safetensors", "model_index.json",
                                    "scheduler/scheduler_config.json", "unet/config.json",
                                    "unet/diffusion_pytorch_model.fp16.safetensors",
                                    "vae/config.json", "vae/diffusion_pytorch_model.safetensors"}));
}

TEST(Manifest, ShardedPlainWeightsKeepIndexAndTokenizer) {
    auto m = manifest_for(*registry::find_model("ltx-video"));
    auto chosen = select_files(
        m.repos[0],
        listing({"model_index.json", "ltx-video-2b-v0.9.1.safetensors", "tokenizer/spiece.model",
                 "tokenizer/tokenizer_config.json", "text_encoder/model-00001-of-00002.safetensors",
                 "text_encoder/model-00002-of-00002.safetensors",
                 "text_encoder/model.safetensors.index.json",
                 "text_encoder/model.fp16.safetensors"}));
    EXPECT_EQ(paths_of(chosen),
              (std::vector<std::string>{
                  "model_index.json", "text_encoder/model-00001-of-00002.safetensors",
                  "text_encoder/model-00002-of-00002.safetensors",
                  "text_encoder/model.safetensors.index.json", "tokenizer/spiece.model",
                  "tokenizer/tokenizer_config.json"}));
}

TEST(Manifest, EveryLocalModelHasReposOrInstructions) {
    for (const auto& m : registry::all_models()) {
        if (m.kind != registry::Kind::Local) {
            EXPECT_THROW(manifest_for(m), Error) << m.name;
            continue;
        }
        auto man = manifest_for(m);
        EXPECT_NE(man.repos.empty(), man.manual.empty()) << m.name;
        if (!man.manual.empty()) {
            EXPECT_NE(man.manual.find("https://huggingface.co/"), std::string::npos) << m.name;
        }
    }
    auto morphic = manifest_for(*registry::find_model("morphic-frames-to-video"));
    ASSERT_EQ(morphic.repos.size(), 2u);
    EXPECT_EQ(morphic.repos[1].repo, "Wan-AI/Wan2.2-I2V-A14B-Diffusers");
}

TEST(HubCache, DirectoryFollowsHuggingFacePrecedence) {
    ScopedEnv a("HF_HUB_CACHE", "/x/hub-cache");
    ScopedEnv b("HF_HOME", "/y/home");
    EXPECT_EQ(hub_cache_dir(), "/x/hub-cache");
    {
        ScopedEnv c("HF_HUB_CACHE", nullptr);
        ScopedEnv d("HUGGINGFACE_HUB_CACHE", nullptr);
        EXPECT_EQ(hub_cache_dir(), "/y/home/hub");
        ScopedEnv e("HF_HOME", nullptr);
        ScopedEnv f("XDG_CACHE_HOME", "/z");
        EXPECT_EQ(hub_cache_dir(), "/z/huggingface/hub");
    }
    EXPECT_EQ(repo_cache_dir("org/name", "/c"), "/c/models--org--name");
}

TEST(HubCache, FindSnapshotReadsRefsAndLinksBlobs) {
    TempDir tmp;
    ScopedEnv cache("HF_HUB_CACHE", tmp.path().string());
    const std::string commit(40, 'a');
    EXPECT_FALSE(find_snapshot("org/name"));
    auto repo = repo_cache_dir("org/name", tmp.path());
    testkit::write_text(repo / "blobs" / "etag1", "weights");
    link_snapshot_file(repo, commit, "unet/w.safetensors", "etag1");
    EXPECT_FALSE(find_snapshot("org/name"));  // no ref yet: an unfinished pull is not found
    write_ref(repo, "main", commit);
    auto snap = find_snapshot("org/name");
    ASSERT_TRUE(snap);
    EXPECT_EQ(*snap, repo / "snapshots" / commit);
    EXPECT_EQ(std::filesystem::read_symlink(*snap / "unet/w.safetensors"), "../../../blobs/etag1");
    EXPECT_EQ(testkit::read_text(*snap / "unet/w.safetensors"), "weights");
    EXPECT_TRUE(find_snapshot("org/name", commit));
    EXPECT_FALSE(find_snapshot("org/name", "v2"));
}

}  // namespace
}  // namespace vmeval::weights
