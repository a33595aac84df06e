// AutoencoderKLWan against diffusers: the 2.1 layout (diffusers' own test config) and a 2.2-style
// residual VAE with pixel patchify and 48 latent channels; a 9-frame video through the chunked
// encoder (mode) and 3 latent frames through the per-frame decoder.
#include "models/wan/vae.hpp"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

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
    EXPECT_TENSOR_NEAR(vae->denormalize_latents(g["latent_normalized"]), g["latent_mode"], 1e-5,
                       1e-5);
}

TEST(WanVAE, Wan21MatchesDiffusers) { check_vae("vae21"); }

TEST(WanVAE, Wan22ResidualPatchifiedMatchesDiffusers) { check_vae("vae22"); }

TEST(WanVAE, ConfigFromSavedFolder) {
    auto dir = golden_dir("wan");
    auto c =
        vmeval::wan::VAEConfig::from(vmeval::nn::ConfigFile::load(dir / "vae22" / "config.json"));
    EXPECT_TRUE(c.is_residual);
    EXPECT_EQ(c.patch_size, 2);
    EXPECT_EQ(c.z_dim, 48);
    EXPECT_EQ(c.decoder_base_dim, 6);
    EXPECT_EQ(c.latents_mean.size(), 48u);
    EXPECT_EQ(c.temperal_downsample, (std::vector<bool>{false, true, true}));
    nlohmann::json j = {{"attn_scales", {1.0}}};
    EXPECT_THROW(vmeval::wan::VAEConfig::from(vmeval::nn::ConfigFile(j, "vae/config.json")),
                 vmeval::Error);
}

TEST(WanVAE, RejectsVideosThatAreNotOnePlusFourK) {
    c10::InferenceMode guard;
    auto vae = VAE::load(golden_dir("wan") / "vae21");
    EXPECT_THROW(vae->encode(at::zeros({1, 3, 8, 16, 16})), vmeval::Error);
}

// bf16 against diffusers' own bf16 run of the same folder, and (2.2, whose wider channels keep
// bf16 well conditioned) against fp32. The 2.1 test VAE has 3-channel RMS norms, where bf16 drifts
// visibly in diffusers too (cosine 0.986 against fp32), so it is only compared with diffusers bf16.
void check_bf16(const std::string& name, bool against_fp32) {
    c10::InferenceMode guard;
    auto dir = golden_dir("wan");
    auto vae = VAE::load(dir / name, at::kCPU, at::kBFloat16);
    auto g = load_tensors(dir / (name + ".safetensors"));
    auto mode = vae->encode(g["video"].to(at::kBFloat16));
    auto decoded = vae->decode(g["latents"].to(at::kBFloat16));
    EXPECT_EQ(decoded.scalar_type(), at::kBFloat16);
    EXPECT_TRUE(at::isfinite(mode).all().item<bool>());
    EXPECT_TRUE(at::isfinite(decoded).all().item<bool>());
    EXPECT_TENSOR_NEAR(mode.to(at::kFloat), g["latent_mode_bf16"].to(at::kFloat), 2e-2, 2e-2);
    EXPECT_TENSOR_NEAR(decoded.to(at::kFloat), g["decoded_bf16"].to(at::kFloat), 2e-2, 2e-2);
    std::cout << name << " bf16 decode vs diffusers bf16: "
              << compare(decoded.to(at::kFloat), g["decoded_bf16"].to(at::kFloat), 2e-2, 2e-2).text
              << "\n";
    if (against_fp32) {
        EXPECT_GT(compare(mode.to(at::kFloat), g["latent_mode"], 1.0, 1.0).cosine, 0.99);
        EXPECT_GT(compare(decoded.to(at::kFloat), g["decoded"], 1.0, 1.0).cosine, 0.99);
    }
}

TEST(WanVAE, Wan21Bf16MatchesDiffusersBf16) { check_bf16("vae21", false); }

TEST(WanVAE, Wan22Bf16MatchesDiffusersAndFp32) { check_bf16("vae22", true); }

}  // namespace
