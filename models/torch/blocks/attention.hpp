#pragma once

// Softmax attention: one SDPA entry point for every model, and the diffusers `Attention` /
// `WanAttention` module layout (to_q, to_k, to_v, to_out.0, optional qk norms and the decoupled
// image key/value branch of Wan 2.1 I2V).

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "models/torch/blocks/layers.hpp"
#include "models/torch/blocks/norms.hpp"
#include "models/torch/runtime/module.hpp"

namespace vmeval::nn {

/// softmax(q kᵀ / sqrt(d) + mask) v over q [B, H, Sq, D], k/v [B, H, Skv, D]. `mask` is boolean
/// (true = attend) or additive (same dtype as q), shaped [B, Skv] (key padding), [B, Sq, Skv] or
/// anything broadcastable to [B, H, Sq, Skv].
at::Tensor sdpa(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                const std::optional<at::Tensor>& mask = std::nullopt);

/// Where query/key normalisation happens: none; RMSNorm over each head's dim_head
/// (diffusers qk_norm="rms_norm"); or over the whole inner dim before the head split
/// ("rms_norm_across_heads", Wan and LTX).
enum class QKNorm { None, RMSPerHead, RMSAcrossHeads };

/// Rotary tables (cos, sin) of [1, S, 1, D] applied to q and k after the head split, Wan's way
/// (rope.hpp); absent for cross-attention.
struct RotaryTables {
    at::Tensor cos;
    at::Tensor sin;
};

struct AttentionOptions {
    int64_t query_dim = 0;
    int64_t cross_attention_dim = 0;  ///< key/value input channels; 0 = query_dim
    int64_t heads = 8;
    int64_t dim_head = 64;
    bool bias = false;                ///< on to_q/to_k/to_v
    bool out_bias = true;
    QKNorm qk_norm = QKNorm::None;
    double eps = 1e-5;                ///< of the qk norms and of the group norm
    bool qk_norm_affine = true;
    int64_t norm_num_groups = 0;      ///< GroupNorm on the input (VAE mid-block attention); 0 = none
    bool residual_connection = false;
    double rescale_output_factor = 1.0;
    /// Channels of the second key/value source (Wan I2V image tokens): adds add_k_proj,
    /// add_v_proj and norm_added_k; the two attentions share the query and are summed. 0 = none.
    int64_t added_kv_proj_dim = 0;

    /// diffusers' WanAttention as WanTransformerBlock builds it (biases, RMS across heads).
    static AttentionOptions wan(int64_t dim, int64_t heads, double eps, int64_t added_kv_proj_dim = 0);
};

class Attention : public Module {
public:
    explicit Attention(const AttentionOptions& options);

    /// `x` is [B, S, C] or an image [B, C, H, W] (returned in the same layout). `context` is the
    /// key/value source (self-attention when absent), `image_context` the tokens of the added
    /// branch (required exactly when added_kv_proj_dim > 0), `rope` rotates q and k.
    at::Tensor forward(const at::Tensor& x, const std::optional<at::Tensor>& context = std::nullopt,
                       const std::optional<at::Tensor>& mask = std::nullopt,
                       const RotaryTables* rope = nullptr,
                       const std::optional<at::Tensor>& image_context = std::nullopt) const;

    const AttentionOptions& options() const { return options_; }

private:
    at::Tensor split_heads(const at::Tensor& t) const;

    AttentionOptions options_;
    GroupNorm* group_norm_ = nullptr;
    Linear& to_q_;
    Linear& to_k_;
    Linear& to_v_;
    ModuleList<Linear>& to_out_;
    RMSNorm* norm_q_ = nullptr;
    RMSNorm* norm_k_ = nullptr;
    Linear* add_k_proj_ = nullptr;
    Linear* add_v_proj_ = nullptr;
    RMSNorm* norm_added_k_ = nullptr;
};

}  // namespace vmeval::nn
