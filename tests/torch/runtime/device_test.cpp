// Device and precision choice, peak memory, and the module tree's bookkeeping.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "models/torch/runtime/device.hpp"
#include "models/torch/runtime/module.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::nn {
namespace {

TEST(Placement, CpuRunsFp32AndCudaRequestsAreCheckedAgainstTheMachine) {
    auto cpu = choose_placement("cpu", "auto");
    EXPECT_TRUE(cpu.device.is_cpu());
    EXPECT_EQ(cpu.dtype, at::kFloat);
    EXPECT_THROW(choose_placement("cpu", "bf16"), Error);
    EXPECT_THROW(choose_placement("gpu", "auto"), Error);
    EXPECT_THROW(choose_placement("cuda:x", "auto"), Error);
    EXPECT_THROW(choose_placement("cpu", "fp8"), Error);
    if (!at::hasCUDA()) {
        EXPECT_TRUE(choose_placement("auto", "auto").device.is_cpu());
        try {
            choose_placement("cuda:1", "auto");
            FAIL();
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("no usable CUDA device"), std::string::npos) << e.what();
        }
    } else {
        auto gpu = choose_placement("auto", "auto");
        EXPECT_TRUE(gpu.device.is_cuda());
        EXPECT_EQ(gpu.dtype, at::kBFloat16);
        EXPECT_EQ(choose_placement("cuda:0", "fp16").dtype, at::kHalf);
    }
    EXPECT_EQ(precision_name(at::kBFloat16), "bf16");
    EXPECT_EQ(device_name(at::kCPU), "cpu");
}

TEST(PeakMemory, SeesAnAllocationOnTheCpu) {
    PeakMemory peak(at::kCPU);
    auto before = peak.bytes();
    {
        auto big = at::ones({64, 1024, 1024}, at::kFloat);  // 256 MiB, touched
        EXPECT_EQ(big.sum().item<float>(), 64.0f * 1024 * 1024);
    }
    EXPECT_GE(peak.bytes(), before + 200ull * 1024 * 1024);
    EXPECT_STREQ(peak.kind(), "rss");
}

class Tiny : public Module {
public:
    Tiny() : weight(param("weight", {4, 3})), scale(param("scale", {4}, Keep::Float32)) {
        auto& inner = child<ModuleList<Tiny2>>("blocks");
        inner.push_back();
        inner.push_back();
    }
    struct Tiny2 : Module {
        Tiny2() : w(param("proj.weight", {2})) {}
        at::Tensor& w;
    };
    at::Tensor& weight;
    at::Tensor& scale;
};

TEST(Module, NamesShapesRandomInitAndCasting) {
    Tiny m;
    auto entries = m.named_tensors();
    ASSERT_EQ(entries.size(), 4u);
    EXPECT_EQ(entries[0].name, "weight");
    EXPECT_EQ(entries[2].name, "blocks.0.proj.weight");
    EXPECT_EQ(entries[3].name, "blocks.1.proj.weight");
    EXPECT_FALSE(m.weight.defined());
    init_random(m, 3, 0.02, at::kCPU, at::kBFloat16);
    EXPECT_EQ(m.weight.scalar_type(), at::kBFloat16);
    EXPECT_EQ(m.scale.scalar_type(), at::kFloat);  // kept in fp32
    EXPECT_EQ(m.bytes(), 12u * 2 + 4u * 4 + 2u * 2 * 2);
    m.to(at::kCPU, at::kFloat);
    EXPECT_EQ(m.weight.scalar_type(), at::kFloat);
    Tiny same;
    init_random(same, 3, 0.02, at::kCPU, at::kFloat);
    EXPECT_TRUE(at::equal(same.scale, m.scale));  // seeded
}

}  // namespace
}  // namespace vmeval::nn
