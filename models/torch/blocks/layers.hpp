#pragma once

// Thin parameter holders for the torch.nn layers the reference classes use, with the checkpoint
// names torch.nn gives them ("weight", "bias").

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>

#include "models/torch/runtime/module.hpp"

namespace vmeval::nn {

/// torch.nn.Linear: weight [out, in], optional bias [out].
class Linear : public Module {
public:
    Linear(int64_t in_features, int64_t out_features, bool bias = true);
    at::Tensor forward(const at::Tensor& x) const;
    at::Tensor& weight() { return weight_; }

private:
    at::Tensor& weight_;
    at::Tensor* bias_ = nullptr;
};

/// torch.nn.Conv2d with square or rectangular kernels; weight [out, in, kh, kw].
struct Conv2dOptions {
    int64_t in_channels = 0;
    int64_t out_channels = 0;
    std::array<int64_t, 2> kernel{3, 3};
    std::array<int64_t, 2> stride{1, 1};
    std::array<int64_t, 2> padding{0, 0};
    bool bias = true;
};

class Conv2d : public Module {
public:
    explicit Conv2d(const Conv2dOptions& options);
    /// Shorthand for a square kernel with the same stride and padding on both axes.
    Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0, bool bias = true);
    at::Tensor forward(const at::Tensor& x) const;
    at::Tensor& weight() { return weight_; }

private:
    Conv2dOptions options_;
    at::Tensor& weight_;
    at::Tensor* bias_ = nullptr;
};

/// torch.nn.Conv3d over [B, C, T, H, W]; weight [out, in, kt, kh, kw]. Padding is symmetric, as in
/// torch; causal time padding is CausalConv3d's job (causal_conv.hpp).
struct Conv3dOptions {
    int64_t in_channels = 0;
    int64_t out_channels = 0;
    std::array<int64_t, 3> kernel{3, 3, 3};
    std::array<int64_t, 3> stride{1, 1, 1};
    std::array<int64_t, 3> padding{0, 0, 0};
    bool bias = true;
};

class Conv3d : public Module {
public:
    explicit Conv3d(const Conv3dOptions& options);
    /// Convolution with explicit padding, ignoring the options' own (used by the causal variant).
    at::Tensor forward_padded(const at::Tensor& x, std::array<int64_t, 3> padding) const;
    at::Tensor forward(const at::Tensor& x) const { return forward_padded(x, options_.padding); }
    const Conv3dOptions& options() const { return options_; }
    at::Tensor& weight() { return weight_; }

private:
    Conv3dOptions options_;
    at::Tensor& weight_;
    at::Tensor* bias_ = nullptr;
};

}  // namespace vmeval::nn
