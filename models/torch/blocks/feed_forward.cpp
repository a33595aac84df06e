#include "models/torch/blocks/feed_forward.hpp"

#include <ATen/ATen.h>

#include <map>

#include "vmeval/core/error.hpp"

namespace vmeval::nn {

FFActivation parse_ff_activation(const std::string& name) {
    static const std::map<std::string, FFActivation> kNames = {
        {"gelu", FFActivation::GELU},          {"gelu-approximate", FFActivation::GELUTanh},
        {"geglu", FFActivation::GEGLU},        {"geglu-approximate", FFActivation::ApproxGELU},
        {"swiglu", FFActivation::SwiGLU},      {"linear-silu", FFActivation::LinearSiLU},
    };
    auto it = kNames.find(name);
    if (it == kNames.end())
        throw Error(ErrorCode::Config, "FeedForward: unknown activation_fn \"" + name +
                                           "\" (known: gelu, gelu-approximate, geglu, geglu-approximate, "
                                           "swiglu, linear-silu)");
    return it->second;
}

namespace {
bool gated(FFActivation a) { return a == FFActivation::GEGLU || a == FFActivation::SwiGLU; }
}  // namespace

FeedForward::Activation::Activation(int64_t dim, int64_t inner, FFActivation act, bool bias)
    : act_(act), proj_(child<Linear>("proj", dim, gated(act) ? 2 * inner : inner, bias)) {}

at::Tensor FeedForward::Activation::forward(const at::Tensor& x) const {
    auto h = proj_.forward(x);
    switch (act_) {
        case FFActivation::GELU: return at::gelu(h);
        case FFActivation::GELUTanh: return at::gelu(h, "tanh");
        case FFActivation::ApproxGELU: return h * at::sigmoid(1.702 * h);
        case FFActivation::LinearSiLU: return at::silu(h);
        case FFActivation::GEGLU: {
            auto parts = h.chunk(2, -1);  // value first, gate second
            return parts[0] * at::gelu(parts[1]);
        }
        case FFActivation::SwiGLU: {
            auto parts = h.chunk(2, -1);
            return parts[0] * at::silu(parts[1]);
        }
    }
    return h;
}

FeedForward::FeedForward(const FeedForwardOptions& o) {
    const int64_t inner = o.inner_dim > 0 ? o.inner_dim : o.dim * o.mult;
    const int64_t out = o.dim_out > 0 ? o.dim_out : o.dim;
    // Children named "net.0"/"net.2" give the checkpoint's keys; net.1 (Dropout) holds nothing.
    act_ = &child<Activation>("net.0", o.dim, inner, o.activation, o.bias);
    out_ = &child<Linear>("net.2", inner, out, o.bias);
}

at::Tensor FeedForward::forward(const at::Tensor& x) const { return out_->forward(act_->forward(x)); }

}  // namespace vmeval::nn
