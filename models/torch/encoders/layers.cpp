#include "models/torch/encoders/layers.hpp"

#include <ATen/ATen.h>

#include "vmeval/core/error.hpp"

namespace vmeval::enc {

Linear::Linear(int64_t in, int64_t out, bool bias, Keep keep)
    : weight_(param("weight", {out, in}, keep)),
      bias_(bias ? &param("bias", {out}, keep) : nullptr) {}

at::Tensor Linear::operator()(const at::Tensor& x) const {
    const auto& input = x.scalar_type() == weight_.scalar_type() ? x : x.to(weight_.scalar_type());
    return at::linear(input, weight_, bias_ ? std::optional<at::Tensor>(*bias_) : std::nullopt);
}

LayerNorm::LayerNorm(int64_t dim, double eps)
    : dim_(dim), eps_(eps), weight_(param("weight", {dim})), bias_(param("bias", {dim})) {}

at::Tensor LayerNorm::operator()(const at::Tensor& x) const {
    return at::layer_norm(x, {dim_}, weight_, bias_, eps_);
}

T5LayerNorm::T5LayerNorm(int64_t dim, double eps) : eps_(eps), weight_(param("weight", {dim})) {}

at::Tensor T5LayerNorm::operator()(const at::Tensor& x) const {
    auto variance = x.to(at::kFloat).pow(2).mean(-1, /*keepdim=*/true);
    auto normed = x * at::rsqrt(variance + eps_);
    auto w = weight_.scalar_type();
    if (w == at::kHalf || w == at::kBFloat16) normed = normed.to(w);
    return weight_ * normed;
}

Embedding::Embedding(int64_t count, int64_t dim) : weight_(param("weight", {count, dim})) {}

at::Tensor Embedding::operator()(const at::Tensor& ids) const {
    return at::embedding(weight_, ids);
}

Activation activation_from_name(const std::string& name, const std::string& context) {
    if (name == "relu") return Activation::ReLU;
    if (name == "gelu") return Activation::GELU;
    // gelu_new and gelu_fast are transformers' hand-written tanh approximations; ATen's tanh GELU
    // is the same formula (differences at the float rounding level).
    if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast")
        return Activation::GELUTanh;
    if (name == "quick_gelu") return Activation::QuickGELU;
    if (name == "silu" || name == "swish") return Activation::SiLU;
    throw Error(
        ErrorCode::Config,
        context + ": activation '" + name +
            "' is not supported (relu, gelu, gelu_new, gelu_pytorch_tanh, quick_gelu, silu)");
}

at::Tensor activate(const at::Tensor& x, Activation activation) {
    switch (activation) {
        case Activation::ReLU:
            return at::relu(x);
        case Activation::GELU:
            return at::gelu(x);
        case Activation::GELUTanh:
            return at::gelu(x, "tanh");
        case Activation::QuickGELU:
            return x * at::sigmoid(x * 1.702);
        case Activation::SiLU:
            return at::silu(x);
    }
    return x;
}

}  // namespace vmeval::enc
