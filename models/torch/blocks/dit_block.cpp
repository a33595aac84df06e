#include "models/torch/blocks/dit_block.hpp"

#include <ATen/ATen.h>

namespace vmeval::nn {

namespace {
LayerNormOptions plain_norm(const DiTBlockOptions& o) {
    return LayerNormOptions{o.dim, o.eps, /*elementwise_affine=*/false, /*bias=*/false, /*fp32=*/true};
}
FeedForwardOptions ffn_options(const DiTBlockOptions& o) {
    FeedForwardOptions f;
    f.dim = o.dim;
    f.inner_dim = o.ffn_dim;
    f.activation = FFActivation::GELUTanh;
    return f;
}
}  // namespace

DiTBlock::DiTBlock(const DiTBlockOptions& o)
    : norm1_(child<LayerNorm>("norm1", plain_norm(o))),
      attn1_(child<Attention>("attn1", AttentionOptions::wan(o.dim, o.heads, o.eps))),
      attn2_(child<Attention>("attn2", AttentionOptions::wan(o.dim, o.heads, o.eps, o.added_kv_proj_dim))),
      ffn_(child<FeedForward>("ffn", ffn_options(o))),
      norm3_(child<LayerNorm>("norm3", plain_norm(o))),
      scale_shift_table_(param("scale_shift_table", {1, 6, o.dim}, Keep::Float32)) {
    if (o.cross_attn_norm)
        norm2_ = &child<LayerNorm>("norm2", LayerNormOptions{o.dim, o.eps, true, true, /*fp32=*/true});
}

at::Tensor DiTBlock::forward(const at::Tensor& x, const at::Tensor& context, const at::Tensor& temb,
                             const RotaryTables& rope, const std::optional<at::Tensor>& image_context) const {
    // shift, scale, gate for self-attention, then for the feed-forward.
    auto m = scale_shift_chunks(scale_shift_table_, temb);
    auto h = modulate(norm1_.forward(x.to(at::kFloat)), m[0], m[1]).to(x.scalar_type());
    auto out = gated_residual(x, attn1_.forward(h, std::nullopt, std::nullopt, &rope), m[2]);

    h = norm2_ ? norm2_->forward(out.to(at::kFloat)).to(out.scalar_type()) : out;
    out = out + attn2_.forward(h, context, std::nullopt, nullptr, image_context);

    h = modulate(norm3_.forward(out.to(at::kFloat)), m[3], m[4]).to(out.scalar_type());
    return gated_residual(out, ffn_.forward(h), m[5]);
}

}  // namespace vmeval::nn
