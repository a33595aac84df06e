#include "torch/support/golden.hpp"

#include <ATen/ATen.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "models/torch/runtime/checkpoint_reader.hpp"

namespace vmeval::testing {

std::filesystem::path golden_dir(const std::string& component) {
    std::filesystem::path dir = std::filesystem::path(VMEVAL_GOLDEN_DIR) / component;
    if (!std::filesystem::is_directory(dir)) {
        ADD_FAILURE() << dir << " is missing: run `ctest -R reference.goldens` (tests/reference/make_goldens.py) first";
    }
    return dir;
}

std::map<std::string, at::Tensor> load_tensors(const std::filesystem::path& file) {
    return nn::CheckpointReader::open_file(file).read_all();
}

nlohmann::json load_json(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return nlohmann::json::parse(text.str());
}

Closeness compare(const at::Tensor& actual, const at::Tensor& expected, double atol, double rtol) {
    Closeness c;
    std::ostringstream out;
    if (!actual.defined() || !expected.defined()) {
        c.text = "undefined tensor";
        return c;
    }
    if (actual.sizes() != expected.sizes()) {
        out << "shape " << actual.sizes() << " vs expected " << expected.sizes();
        c.text = out.str();
        return c;
    }
    auto a = actual.detach().to(at::kCPU, at::kDouble);
    auto e = expected.detach().to(at::kCPU, at::kDouble);
    auto diff = (a - e).abs();
    c.max_abs = diff.numel() ? diff.max().item<double>() : 0.0;
    auto significant = e.abs() > atol;
    c.max_rel = significant.any().item<bool>() ? (diff / e.abs()).masked_select(significant).max().item<double>() : 0.0;
    auto denom = a.norm().item<double>() * e.norm().item<double>();
    c.cosine = denom > 0 ? (a.flatten().dot(e.flatten())).item<double>() / denom : (c.max_abs == 0 ? 1.0 : 0.0);
    bool finite = at::isfinite(a).all().item<bool>();
    c.ok = finite && (diff <= atol + rtol * e.abs()).all().item<bool>();
    out << "max_abs " << c.max_abs << ", max_rel " << c.max_rel << ", cosine " << c.cosine << " (atol " << atol
        << ", rtol " << rtol << (finite ? "" : ", NOT FINITE") << ", shape " << actual.sizes() << ")";
    c.text = out.str();
    return c;
}

Closeness expect_close(const std::string& what, const at::Tensor& actual, const at::Tensor& expected, double atol,
                       double rtol) {
    auto c = compare(actual, expected, atol, rtol);
    EXPECT_TRUE(c.ok) << what << ": " << c.text;
    ::testing::Test::RecordProperty(what, c.text);
    if (std::getenv("VMEVAL_PRINT_CLOSENESS")) std::cout << "    " << what << ": " << c.text << "\n";
    return c;
}

}  // namespace vmeval::testing
