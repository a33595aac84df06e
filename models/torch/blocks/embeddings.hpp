#pragma once

// Sinusoidal timestep embeddings and the MLP that follows them (diffusers.models.embeddings):
// Timesteps + TimestepEmbedding, also SVD's temporal position embedding (time_proj +
// time_pos_embed in TransformerSpatioTemporalModel).

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "models/torch/blocks/layers.hpp"
#include "models/torch/runtime/module.hpp"

namespace vmeval::nn {

struct TimestepsOptions {
    int64_t num_channels = 0;
    bool flip_sin_to_cos = false;      ///< cos first (true for SVD, Wan, LTX)
    double downscale_freq_shift = 1.0; ///< frequencies exp(-ln(max_period) i / (half - shift))
    double scale = 1.0;
    double max_period = 10000.0;
};

/// get_timestep_embedding: timesteps [N] (any numeric dtype, fractional allowed) -> fp32 [N, C],
/// zero-padded by one column when C is odd.
at::Tensor timestep_embedding(const at::Tensor& timesteps, const TimestepsOptions& options);

/// Timesteps (no weights).
class Timesteps {
public:
    explicit Timesteps(const TimestepsOptions& options) : options_(options) {}
    at::Tensor forward(const at::Tensor& timesteps) const { return timestep_embedding(timesteps, options_); }

private:
    TimestepsOptions options_;
};

/// Activations named as diffusers' get_activation names them.
enum class Activation { None, SiLU, GELU, GELUTanh, ReLU, Mish };
/// "silu"/"swish", "gelu", "gelu_tanh", "relu", "mish"; throws Error(Config) on others.
Activation parse_activation(const std::string& name);
at::Tensor activate(const at::Tensor& x, Activation act);

struct TimestepEmbeddingOptions {
    int64_t in_channels = 0;
    int64_t time_embed_dim = 0;
    Activation act = Activation::SiLU;
    int64_t out_dim = 0;               ///< 0 = time_embed_dim
    Activation post_act = Activation::None;
    int64_t cond_proj_dim = 0;         ///< adds cond_proj (no bias) when > 0
    bool sample_proj_bias = true;
};

/// TimestepEmbedding: linear_1 -> act -> linear_2 [-> post_act], with optional cond_proj.
class TimestepEmbedding : public Module {
public:
    explicit TimestepEmbedding(const TimestepEmbeddingOptions& options);
    at::Tensor forward(const at::Tensor& sample, const at::Tensor* condition = nullptr) const;

private:
    TimestepEmbeddingOptions options_;
    Linear& linear_1_;
    Linear& linear_2_;
    Linear* cond_proj_ = nullptr;
};

}  // namespace vmeval::nn
