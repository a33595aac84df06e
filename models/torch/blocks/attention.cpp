#include "models/torch/blocks/attention.hpp"

#include <ATen/ATen.h>

#include "models/torch/blocks/rope.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::nn {

at::Tensor sdpa(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const std::optional<at::Tensor>& mask) {
    if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4)
        throw Error(ErrorCode::Config, "sdpa: q, k and v must be [batch, heads, seq, head_dim]");
    if (!mask) return at::scaled_dot_product_attention(q, k, v);
    auto m = *mask;
    // diffusers passes key-padding masks as [B, Skv] or [B, Sq|1, Skv]; SDPA wants a head axis.
    if (m.dim() == 2) m = m.unsqueeze(1).unsqueeze(1);
    else if (m.dim() == 3) m = m.unsqueeze(1);
    if (m.scalar_type() != at::kBool) m = m.to(q.scalar_type());
    return at::scaled_dot_product_attention(q, k, v, m);
}

AttentionOptions AttentionOptions::wan(int64_t dim, int64_t heads, double eps, int64_t added_kv_proj_dim) {
    AttentionOptions o;
    o.query_dim = dim;
    o.heads = heads;
    o.dim_head = dim / heads;
    o.bias = true;
    o.out_bias = true;
    o.qk_norm = QKNorm::RMSAcrossHeads;
    o.eps = eps;
    o.added_kv_proj_dim = added_kv_proj_dim;
    return o;
}

namespace {
int64_t kv_dim(const AttentionOptions& o) { return o.cross_attention_dim > 0 ? o.cross_attention_dim : o.query_dim; }
}  // namespace

Attention::Attention(const AttentionOptions& o)
    : options_(o),
      to_q_(child<Linear>("to_q", o.query_dim, o.heads * o.dim_head, o.bias)),
      to_k_(child<Linear>("to_k", kv_dim(o), o.heads * o.dim_head, o.bias)),
      to_v_(child<Linear>("to_v", kv_dim(o), o.heads * o.dim_head, o.bias)),
      to_out_(child<ModuleList<Linear>>("to_out")) {
    const int64_t inner = o.heads * o.dim_head;
    to_out_.push_back(inner, o.query_dim, o.out_bias);
    if (o.norm_num_groups > 0) group_norm_ = &child<GroupNorm>("group_norm", o.norm_num_groups, o.query_dim, o.eps);
    if (o.qk_norm != QKNorm::None) {
        const int64_t dim = o.qk_norm == QKNorm::RMSPerHead ? o.dim_head : inner;
        // Wan's attention normalises with torch.nn.RMSNorm; the per-head form is diffusers' RMSNorm.
        const bool fused = o.qk_norm == QKNorm::RMSAcrossHeads;
        norm_q_ = &child<RMSNorm>("norm_q", dim, o.eps, o.qk_norm_affine, false, Keep::ComputeDType, fused);
        norm_k_ = &child<RMSNorm>("norm_k", dim, o.eps, o.qk_norm_affine, false, Keep::ComputeDType, fused);
    }
    if (o.added_kv_proj_dim > 0) {
        if (o.qk_norm == QKNorm::RMSPerHead)
            throw Error(ErrorCode::Config,
                        "Attention: the added key/value branch is implemented for qk_norm none or "
                        "rms_norm_across_heads (Wan) only");
        add_k_proj_ = &child<Linear>("add_k_proj", o.added_kv_proj_dim, inner, true);
        add_v_proj_ = &child<Linear>("add_v_proj", o.added_kv_proj_dim, inner, true);
        if (o.qk_norm == QKNorm::RMSAcrossHeads) norm_added_k_ = &child<RMSNorm>("norm_added_k", inner, o.eps, true, false, Keep::ComputeDType, true);
    }
}

// [B, S, H*D] -> [B, S, H, D]; the transpose to SDPA's layout comes after RoPE, which Wan applies
// in this layout.
at::Tensor Attention::split_heads(const at::Tensor& t) const { return t.unflatten(2, {options_.heads, -1}); }

at::Tensor Attention::forward(const at::Tensor& input, const std::optional<at::Tensor>& context,
                              const std::optional<at::Tensor>& mask, const RotaryTables* rope,
                              const std::optional<at::Tensor>& image_context) const {
    const auto& o = options_;
    if ((image_context.has_value()) != (add_k_proj_ != nullptr))
        throw Error(ErrorCode::Config, add_k_proj_ ? "Attention: this layer has an image branch "
                                                     "(added_kv_proj_dim) and needs image_context"
                                                   : "Attention: image_context given to a layer without add_k_proj");
    const bool image = input.dim() == 4;
    auto x = image ? input.flatten(2).transpose(1, 2) : input;
    if (group_norm_) x = group_norm_->forward(x.transpose(1, 2)).transpose(1, 2);
    const auto& kv_in = context ? *context : x;

    auto q = to_q_.forward(x), k = to_k_.forward(kv_in), v = to_v_.forward(kv_in);
    if (o.qk_norm == QKNorm::RMSAcrossHeads) {
        q = norm_q_->forward(q);
        k = norm_k_->forward(k);
    }
    q = split_heads(q);
    k = split_heads(k);
    v = split_heads(v);
    if (o.qk_norm == QKNorm::RMSPerHead) {
        q = norm_q_->forward(q);
        k = norm_k_->forward(k);
    }
    if (rope) {
        q = apply_rotary_wan(q, *rope);
        k = apply_rotary_wan(k, *rope);
    }
    q = q.transpose(1, 2);
    auto out = sdpa(q, k.transpose(1, 2), v.transpose(1, 2), mask).transpose(1, 2).flatten(2).to(q.scalar_type());

    if (image_context) {
        auto ki = add_k_proj_->forward(*image_context), vi = add_v_proj_->forward(*image_context);
        if (norm_added_k_) ki = norm_added_k_->forward(ki);
        auto img = sdpa(q, split_heads(ki).transpose(1, 2), split_heads(vi).transpose(1, 2));
        out = out + img.transpose(1, 2).flatten(2).to(q.scalar_type());
    }
    out = to_out_[0].forward(out);
    if (image) out = out.transpose(1, 2).reshape(input.sizes());
    if (o.residual_connection) out = out + input;
    if (o.rescale_output_factor != 1.0) out = out / o.rescale_output_factor;
    return out;
}

}  // namespace vmeval::nn
