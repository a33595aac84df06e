#pragma once

// The prompts and transformers' ids/masks the tokenizers golden (tests/reference/goldens/
// tokenizers.py) recorded, and an exact comparison of one encoding with them.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/torch/tokenizers/encoding.hpp"

namespace vmeval::tokenizers::testing {

/// Expects `got` to equal row `i` of a golden {"ids": [[...]], "mask": [[...]]} exactly.
inline void expect_same(const Encoded& got, const nlohmann::json& golden, size_t i,
                        const std::string& prompt) {
    const auto ids = golden.at("ids").at(i).get<std::vector<int64_t>>();
    const auto mask = golden.at("mask").at(i).get<std::vector<int64_t>>();
    EXPECT_EQ(got.ids, ids) << "prompt #" << i << ": \"" << prompt << "\"";
    EXPECT_EQ(got.mask, mask) << "prompt #" << i << ": \"" << prompt << "\"";
}

}  // namespace vmeval::tokenizers::testing
