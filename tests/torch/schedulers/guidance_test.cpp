// Guidance helpers against the formulas of the diffusers pipelines, evaluated in the generator
// (tests/reference/goldens/schedulers.py, guidance()).
#include "models/torch/schedulers/guidance.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "torch/support/golden.hpp"

namespace vmeval::sched {
namespace {

using testing::golden_dir;
using testing::load_tensors;

class Guidance : public ::testing::Test {
protected:
    void SetUp() override {
        golden_ = load_tensors(golden_dir("schedulers") / "guidance.safetensors");
    }
    const at::Tensor& g(const std::string& name) { return golden_.at(name); }
    std::map<std::string, at::Tensor> golden_;
};

TEST_F(Guidance, ClassicCFG) {
    // Same float32 ops in the same order as the pipelines: exact.
    EXPECT_TENSOR_NEAR(guide(g("uncond"), g("cond"), 5.0), g("cfg_5"), 0.0, 0.0);
}

TEST_F(Guidance, SVDFrameRamp) {
    const auto& cond = g("cond");
    auto scale = frame_guidance_scales(1.0, 3.0, cond.size(0), cond.size(1), cond.dim(), at::kFloat,
                                       at::kCPU);
    EXPECT_EQ(scale.sizes(), g("svd_scale").sizes());
    EXPECT_TENSOR_NEAR(scale, g("svd_scale"), 0.0, 0.0);
    EXPECT_TENSOR_NEAR(guide(g("uncond"), cond, scale), g("svd_cfg"), 0.0, 0.0);
}

TEST_F(Guidance, RescaleNoiseCFG) {
    auto out = rescale_guidance(g("cfg_5"), g("cond"), 0.7);
    EXPECT_TENSOR_NEAR(out, g("rescaled_0_7"), 1e-6, 1e-6);
    EXPECT_TENSOR_NEAR(rescale_guidance(g("cfg_5"), g("cond"), 0.0), g("cfg_5"), 0.0, 0.0);
}

TEST_F(Guidance, CogVideoXDynamicScale) {
    const auto& timesteps = g("cog_timesteps");
    const auto& want = g("cog_dynamic_6");
    ASSERT_EQ(timesteps.size(0), want.size(0));
    for (int64_t i = 0; i < timesteps.size(0); ++i)
        EXPECT_DOUBLE_EQ(cogvideox_dynamic_scale(6.0, 50, timesteps[i].item<double>()),
                         want[i].item<double>())
            << i;
}

}  // namespace
}  // namespace vmeval::sched
