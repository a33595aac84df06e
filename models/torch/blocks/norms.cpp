#include "models/torch/blocks/norms.hpp"

#include <ATen/ATen.h>

#include "vmeval/core/error.hpp"

namespace vmeval::nn {

namespace {
bool is_half(at::ScalarType t) { return t == at::kHalf || t == at::kBFloat16; }
std::optional<at::Tensor> maybe(const at::Tensor* t) {
    return t ? std::optional<at::Tensor>(*t) : std::nullopt;
}
}  // namespace

RMSNorm::RMSNorm(int64_t dim, double eps, bool elementwise_affine, bool bias, Keep keep, bool fused)
    : dim_(dim), eps_(eps), fused_(fused) {
    if (fused && bias) throw Error(ErrorCode::Internal, "RMSNorm: torch.nn.RMSNorm has no bias");
    if (elementwise_affine) {
        weight_ = &param("weight", {dim}, keep);
        if (bias) bias_ = &param("bias", {dim}, keep);
    }
}

at::Tensor RMSNorm::forward(const at::Tensor& x) const {
    if (fused_) return at::rms_norm(x, {dim_}, maybe(weight_), eps_);
    auto variance = x.to(at::kFloat).pow(2).mean(-1, /*keepdim=*/true);
    // Type promotion makes this fp32 for half inputs: the reference normalises in fp32.
    auto y = x * at::rsqrt(variance + eps_);
    if (!weight_) return y.to(x.scalar_type());
    if (is_half(weight_->scalar_type())) y = y.to(weight_->scalar_type());
    y = y * *weight_;
    if (bias_) y = y + *bias_;
    return y;
}

LayerNorm::LayerNorm(const LayerNormOptions& o) : options_(o) {
    if (o.elementwise_affine) {
        auto keep = o.fp32 ? Keep::Float32 : Keep::ComputeDType;
        weight_ = &param("weight", {o.dim}, keep);
        if (o.bias) bias_ = &param("bias", {o.dim}, keep);
    }
}

at::Tensor LayerNorm::forward(const at::Tensor& x) const {
    if (!options_.fp32) return at::layer_norm(x, {options_.dim}, maybe(weight_), maybe(bias_), options_.eps);
    auto w = weight_ ? std::optional<at::Tensor>(weight_->to(at::kFloat)) : std::nullopt;
    auto b = bias_ ? std::optional<at::Tensor>(bias_->to(at::kFloat)) : std::nullopt;
    return at::layer_norm(x.to(at::kFloat), {options_.dim}, w, b, options_.eps).to(x.scalar_type());
}

GroupNorm::GroupNorm(int64_t groups, int64_t channels, double eps, bool affine) : groups_(groups), eps_(eps) {
    if (channels % groups != 0)
        throw Error(ErrorCode::Config, "GroupNorm: " + std::to_string(channels) + " channels do not split into " +
                                           std::to_string(groups) + " groups; check norm_num_groups in config.json");
    if (affine) {
        weight_ = &param("weight", {channels});
        bias_ = &param("bias", {channels});
    }
}

at::Tensor GroupNorm::forward(const at::Tensor& x) const {
    return at::group_norm(x, groups_, maybe(weight_), maybe(bias_), eps_);
}

at::Tensor modulate(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale) {
    return (x * (1 + scale) + shift).to(x.scalar_type());
}

at::Tensor gated_residual(const at::Tensor& x, const at::Tensor& y, const at::Tensor& gate) {
    return (x.to(at::kFloat) + y.to(at::kFloat) * gate).to(x.scalar_type());
}

std::vector<at::Tensor> scale_shift_chunks(const at::Tensor& table, const at::Tensor& temb) {
    const int64_t n = table.size(1);
    if (temb.dim() == 4) {
        auto parts = (table.unsqueeze(0) + temb.to(at::kFloat)).chunk(n, 2);
        for (auto& p : parts) p = p.squeeze(2);
        return parts;
    }
    return (table + temb.to(at::kFloat)).chunk(n, 1);
}

}  // namespace vmeval::nn
