// AutoencoderKLWan against diffusers: the 2.1 layout (diffusers' own test config) and a 2.2-style
// residual VAE with pixel patchify and 48 latent channels; a 9-frame video through the chunked
// encoder (mode) and 3 latent frames through the per-frame decoder.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "models/wan/vae.hpp"
#include "torch/support/golden.hpp"
#include "vmeval/core/error.hpp"

namespace {

using vmeval::testing::compare;
using vmeval::testing::golden_dir;
using vmeval::testing::load_tensors;
using vmeval::wan::VAE;

// ~20 causal convolutions deep with renormalisation after each: a few 1e-5 in fp32.
constexpr double kAtol = 1e-4;
constexpr double kRtol = 1e-4;

void check_vae(const std::string& name) {
    c10::InferenceMode guard;
    auto dir = golden_dir("wan");
    auto vae = VAE::load(dir / name);
    auto g = load_tensors(dir / (name + ".safetensors"));
    auto moments = vae->encode_moments(g["video"]);
    EXPECT_TENSOR_NEAR(moments, g["moments"], kAtol, kRtol);
    auto mode = vae->encode(g["video"]);
    EXPECT_TENSOR_NEAR(mode, g["latent_mode"], kAtol, kRtol);
    std::cout << name << " encode: " << compare(mode, g["latent_mode"], kAtol, kRtol).text << "\n";
    auto decoded = vae->decode(g["latents"]);
    EXPECT_TENSOR_NEAR(decoded, g["decoded"], kAtol, kRtol);
    std::cout << name << " decode: " << compare(decoded, g["decoded"], kAtol, kRtol).text << "\n";
    EXPECT_TENSOR_NEAR(vae->normalize_latents(mode), g["latent_normalized"], 1e-5, 1e-5);
    EXPECT_TENSOR_NEAR(vae->denormalize_latents(g["latent_normalized"]), g["latent_mode"], 1e-5, 1e-5);
}

TEST(WanVAE, Wan21MatchesDiffusers) { check_vae("vae21"); }

TEST(WanVAE, Wan22ResidualPatchifiedMatchesDiffusers) { check_vae("vae22"); }

TEST(WanVAE, ConfigFromSavedFolder) {
    auto dir = golden_dir("wan");
    auto c = vmeval::wan::VAEConfig::from(vmeval::nn::ConfigFile::load(dir / "vae22" / "config.json"));
    EXPECT_TRUE(c.is_residual);
    EXPECT_EQ(c.patch_size, 2);
    EXPECT_EQ(c.z_dim, 48);
    EXPECT_EQ(c.decoder_base_dim, 6);
    EXPECT_EQ(c.latents_mean.size(), 48u);
    EXPECT_EQ(c.temperal_downsample, (std::vector<bool>{false, true, true}));
    nlohmann::json j = {{"attn_scales", {1.0}}};
    EXPECT_THROW(vmeval::wan::VAEConfig::from(vmeval::nn::ConfigFile(j, "vae/config.json")), vmeval::Error);
}

TEST(WanVAE, RejectsVideosThatAreNotOnePlusFourK) {
    c10::InferenceMode guard;
    auto vae = VAE::load(golden_dir("wan") / "vae21");
    EXPECT_THROW(vae->encode(at::zeros({1, 3, 8, 16, 16})), vmeval::Error);
}

TEST(WanVAE, Bf16SmokeTest) {
    c10::InferenceMode guard;
    auto dir = golden_dir("wan");
    auto vae = VAE::load(dir / "vae21", at::kCPU, at::kBFloat16);
    auto g = load_tensors(dir / "vae21.safetensors");
    auto decoded = vae->decode(g["latents"].to(at::kBFloat16));
    EXPECT_TRUE(at::isfinite(decoded).all().item<bool>());
    auto c = compare(decoded.to(at::kFloat), g["decoded"], 1.0, 1.0);
    std::cout << "vae21 bf16 decode: " << c.text << "\n";
    EXPECT_GT(c.cosine, 0.99);
}

}  // namespace
