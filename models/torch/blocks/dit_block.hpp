#pragma once

// The adaLN-single transformer block of Wan (diffusers WanTransformerBlock): modulated
// non-affine LayerNorm -> self-attention with 3D RoPE -> gated residual; LayerNorm ->
// cross-attention (optionally with the I2V image branch); modulated LayerNorm -> GELU-tanh FFN ->
// gated residual. The six modulation vectors are the timestep projection plus scale_shift_table.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>

#include "models/torch/blocks/attention.hpp"
#include "models/torch/blocks/feed_forward.hpp"
#include "models/torch/blocks/norms.hpp"
#include "models/torch/runtime/module.hpp"

namespace vmeval::nn {

struct DiTBlockOptions {
    int64_t dim = 0;
    int64_t ffn_dim = 0;
    int64_t heads = 0;
    double eps = 1e-6;
    bool cross_attn_norm = false;    ///< affine FP32LayerNorm "norm2" before cross-attention
    int64_t added_kv_proj_dim = 0;   ///< Wan 2.1 I2V image branch in attn2
};

class DiTBlock : public Module {
public:
    explicit DiTBlock(const DiTBlockOptions& options);
    /// x [B, S, dim]; context [B, L, dim] (text tokens); temb [B, 6, dim] or per token
    /// [B, S, 6, dim]; rope for the self-attention; image_context for the I2V branch.
    at::Tensor forward(const at::Tensor& x, const at::Tensor& context, const at::Tensor& temb,
                       const RotaryTables& rope,
                       const std::optional<at::Tensor>& image_context = std::nullopt) const;

private:
    LayerNorm& norm1_;
    Attention& attn1_;
    Attention& attn2_;
    LayerNorm* norm2_ = nullptr;
    FeedForward& ffn_;
    LayerNorm& norm3_;
    at::Tensor& scale_shift_table_;
};

}  // namespace vmeval::nn
