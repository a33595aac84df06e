#pragma once

// Reading the reference harness's goldens (tests/reference) and comparing tensors with them.

#include <ATen/core/Tensor.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>

namespace vmeval::testing {

/// The folder tests/reference/make_goldens.py wrote for `component` (ctest fixture
/// reference_goldens); skips the test with a clear reason when it is absent.
std::filesystem::path golden_dir(const std::string& component);
/// Every tensor of a safetensors file, on the CPU in its stored dtype.
std::map<std::string, at::Tensor> load_tensors(const std::filesystem::path& file);
nlohmann::json load_json(const std::filesystem::path& file);

/// How far `actual` is from `expected`, both compared in fp64.
struct Closeness {
    bool ok = false;         ///< same shape and |a - e| <= atol + rtol * |e| everywhere
    double max_abs = 0;      ///< max |a - e|
    double max_rel = 0;      ///< max |a - e| / max(|e|, 1e-12)... over elements where |e| > atol
    double cosine = 0;       ///< cosine similarity of the flattened tensors
    std::string text;        ///< one line for failure messages
};
Closeness compare(const at::Tensor& actual, const at::Tensor& expected, double atol, double rtol);
/// compare() as a gtest expectation named `what`: the figures go into the failure message, into the
/// test's XML properties (--gtest_output=xml) and, with VMEVAL_PRINT_CLOSENESS=1, onto stdout.
Closeness expect_close(const std::string& what, const at::Tensor& actual, const at::Tensor& expected, double atol,
                       double rtol);

}  // namespace vmeval::testing

/// EXPECT_TENSOR_NEAR(actual, expected, atol, rtol): gtest failure with the closeness figures.
#define EXPECT_TENSOR_NEAR(actual, expected, atol, rtol)                                          \
    do {                                                                                          \
        auto vmeval_closeness_ = ::vmeval::testing::compare((actual), (expected), (atol), (rtol)); \
        EXPECT_TRUE(vmeval_closeness_.ok) << #actual << " vs " << #expected << ": "               \
                                          << vmeval_closeness_.text;                              \
    } while (0)
