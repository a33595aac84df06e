#include "models/torch/blocks/embeddings.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <map>

#include "vmeval/core/error.hpp"

namespace vmeval::nn {

at::Tensor timestep_embedding(const at::Tensor& timesteps, const TimestepsOptions& o) {
    if (timesteps.dim() != 1)
        throw Error(ErrorCode::Config, "timestep_embedding: timesteps must be 1-D, got " +
                                           std::to_string(timesteps.dim()) + " dims");
    const int64_t half = o.num_channels / 2;
    auto opts = at::TensorOptions().dtype(at::kFloat).device(timesteps.device());
    // Same operation order as the reference so fp32 rounding matches.
    auto exponent = -std::log(o.max_period) * at::arange(0, half, opts);
    exponent = exponent / (static_cast<double>(half) - o.downscale_freq_shift);
    auto emb = timesteps.unsqueeze(1).to(at::kFloat) * at::exp(exponent).unsqueeze(0);
    emb = o.scale * emb;
    emb = o.flip_sin_to_cos ? at::cat({at::cos(emb), at::sin(emb)}, -1) : at::cat({at::sin(emb), at::cos(emb)}, -1);
    if (o.num_channels % 2 == 1) emb = at::constant_pad_nd(emb, {0, 1, 0, 0});
    return emb;
}

Activation parse_activation(const std::string& name) {
    static const std::map<std::string, Activation> kNames = {
        {"silu", Activation::SiLU}, {"swish", Activation::SiLU},         {"gelu", Activation::GELU},
        {"gelu_tanh", Activation::GELUTanh}, {"relu", Activation::ReLU}, {"mish", Activation::Mish},
    };
    auto it = kNames.find(name);
    if (it == kNames.end())
        throw Error(ErrorCode::Config, "unknown activation \"" + name + "\" (known: silu, swish, gelu, gelu_tanh, relu, mish)");
    return it->second;
}

at::Tensor activate(const at::Tensor& x, Activation act) {
    switch (act) {
        case Activation::None: return x;
        case Activation::SiLU: return at::silu(x);
        case Activation::GELU: return at::gelu(x);
        case Activation::GELUTanh: return at::gelu(x, "tanh");
        case Activation::ReLU: return at::relu(x);
        case Activation::Mish: return at::mish(x);
    }
    return x;
}

TimestepEmbedding::TimestepEmbedding(const TimestepEmbeddingOptions& o)
    : options_(o),
      linear_1_(child<Linear>("linear_1", o.in_channels, o.time_embed_dim, o.sample_proj_bias)),
      linear_2_(child<Linear>("linear_2", o.time_embed_dim, o.out_dim > 0 ? o.out_dim : o.time_embed_dim,
                              o.sample_proj_bias)) {
    if (o.cond_proj_dim > 0) cond_proj_ = &child<Linear>("cond_proj", o.cond_proj_dim, o.in_channels, false);
}

at::Tensor TimestepEmbedding::forward(const at::Tensor& sample, const at::Tensor* condition) const {
    auto x = sample;
    if (condition) {
        if (!cond_proj_) throw Error(ErrorCode::Config, "TimestepEmbedding: condition given but cond_proj_dim is 0");
        x = x + cond_proj_->forward(*condition);
    }
    x = activate(linear_1_.forward(x), options_.act);
    return activate(linear_2_.forward(x), options_.post_act);
}

}  // namespace vmeval::nn
