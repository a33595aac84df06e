#pragma once

// Normalisations with the reference implementations' precision rules, and the adaLN helpers
// (modulate, gate, scale_shift_table) the diffusion transformers share.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "models/torch/runtime/module.hpp"

namespace vmeval::nn {

/// diffusers.models.normalization.RMSNorm: the mean square is taken in fp32; with a half-precision
/// weight the result is cast to it before scaling, without a weight it returns in the input dtype.
/// With `fused`, torch.nn.RMSNorm instead (what Wan's attention uses): one kernel, one rounding at
/// the end. The two agree in fp32 and differ by a bf16 ulp or so in half precision.
/// Parameters "weight" [, "bias"].
class RMSNorm : public Module {
public:
    RMSNorm(int64_t dim, double eps, bool elementwise_affine = true, bool bias = false,
            Keep keep = Keep::ComputeDType, bool fused = false);
    at::Tensor forward(const at::Tensor& x) const;

private:
    int64_t dim_;
    double eps_;
    bool fused_;
    at::Tensor* weight_ = nullptr;
    at::Tensor* bias_ = nullptr;
};

/// torch.nn.LayerNorm over the last dim, or diffusers' FP32LayerNorm when `fp32` (computed in fp32,
/// returned in the input dtype). Parameters "weight"/"bias" when elementwise_affine.
struct LayerNormOptions {
    int64_t dim = 0;
    double eps = 1e-5;
    bool elementwise_affine = true;
    bool bias = true;
    bool fp32 = false;
};

class LayerNorm : public Module {
public:
    explicit LayerNorm(const LayerNormOptions& options);
    at::Tensor forward(const at::Tensor& x) const;

private:
    LayerNormOptions options_;
    at::Tensor* weight_ = nullptr;
    at::Tensor* bias_ = nullptr;
};

/// torch.nn.GroupNorm over dim 1 of [B, C, ...].
class GroupNorm : public Module {
public:
    GroupNorm(int64_t groups, int64_t channels, double eps = 1e-5, bool affine = true);
    at::Tensor forward(const at::Tensor& x) const;

private:
    int64_t groups_;
    double eps_;
    at::Tensor* weight_ = nullptr;
    at::Tensor* bias_ = nullptr;
};

/// adaLN modulation x * (1 + scale) + shift, computed in the dtype type promotion gives (fp32 when
/// shift/scale come from an fp32 table) and returned in x's dtype, as Wan and LTX do.
at::Tensor modulate(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale);
/// Gated residual x + y * gate, accumulated in fp32 and returned in x's dtype.
at::Tensor gated_residual(const at::Tensor& x, const at::Tensor& y, const at::Tensor& gate);
/// The per-block modulation of adaLN-single models (Wan, LTX, SANA): `table` [1, n, dim] (kept in
/// fp32) plus the projected timestep `temb` [B, n, dim] or per token [B, S, n, dim], split into n
/// tensors of [B, 1, dim] or [B, S, dim].
std::vector<at::Tensor> scale_shift_chunks(const at::Tensor& table, const at::Tensor& temb);

}  // namespace vmeval::nn
