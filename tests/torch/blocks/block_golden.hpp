#pragma once

// One golden case of tests/reference/goldens/blocks.py: the block's weights (read through the real
// loader, so every key name is checked), its inputs/outputs and its constructor arguments.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "models/torch/runtime/checkpoint_reader.hpp"
#include "models/torch/runtime/load.hpp"
#include "torch/support/golden.hpp"

namespace vmeval::nn::testing_blocks {

struct Case {
    std::string name;
    std::map<std::string, at::Tensor> io;
    nlohmann::json config;

    explicit Case(const std::string& case_name) : name(case_name) {
        auto dir = vmeval::testing::golden_dir("blocks");
        io = vmeval::testing::load_tensors(dir / (name + "_io.safetensors"));
        config = vmeval::testing::load_json(dir / "configs.json").at(name);
    }
    const at::Tensor& operator[](const std::string& key) const {
        auto it = io.find(key);
        if (it == io.end()) throw std::runtime_error(name + "_io.safetensors has no tensor " + key);
        return it->second;
    }
    /// Loads the block's weights; load_weights throws on any missing or unexpected key.
    void load(Module& module) const {
        auto dir = vmeval::testing::golden_dir("blocks");
        auto report = load_weights(module, CheckpointReader::open_file(dir / (name + ".safetensors")));
        EXPECT_TRUE(report.ok()) << report.summary();
    }
};

/// EXPECT_TENSOR_NEAR that also prints the closeness figures when VMEVAL_PRINT_CLOSENESS is set,
/// to see how far inside its tolerance each block is.
inline void expect_near(const at::Tensor& actual, const at::Tensor& expected, double atol, double rtol,
                        const char* what) {
    vmeval::testing::expect_close(what, actual, expected, atol, rtol);
}

}  // namespace vmeval::nn::testing_blocks

#define EXPECT_BLOCK_NEAR(actual, expected, atol, rtol) \
    ::vmeval::nn::testing_blocks::expect_near((actual), (expected), (atol), (rtol), #actual)
