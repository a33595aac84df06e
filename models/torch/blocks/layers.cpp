#include "models/torch/blocks/layers.hpp"

#include <ATen/ATen.h>

namespace vmeval::nn {

namespace {
// Optional bias as the ATen ops take it.
std::optional<at::Tensor> maybe(const at::Tensor* t) {
    return t ? std::optional<at::Tensor>(*t) : std::nullopt;
}
}  // namespace

Linear::Linear(int64_t in_features, int64_t out_features, bool bias)
    : weight_(param("weight", {out_features, in_features})) {
    if (bias) bias_ = &param("bias", {out_features});
}

at::Tensor Linear::forward(const at::Tensor& x) const { return at::linear(x, weight_, maybe(bias_)); }

Conv2d::Conv2d(const Conv2dOptions& o)
    : options_(o), weight_(param("weight", {o.out_channels, o.in_channels, o.kernel[0], o.kernel[1]})) {
    if (o.bias) bias_ = &param("bias", {o.out_channels});
}

Conv2d::Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding, bool bias)
    : Conv2d(Conv2dOptions{in, out, {kernel, kernel}, {stride, stride}, {padding, padding}, bias}) {}

at::Tensor Conv2d::forward(const at::Tensor& x) const {
    return at::conv2d(x, weight_, maybe(bias_), options_.stride, options_.padding);
}

Conv3d::Conv3d(const Conv3dOptions& o)
    : options_(o),
      weight_(param("weight", {o.out_channels, o.in_channels, o.kernel[0], o.kernel[1], o.kernel[2]})) {
    if (o.bias) bias_ = &param("bias", {o.out_channels});
}

at::Tensor Conv3d::forward_padded(const at::Tensor& x, std::array<int64_t, 3> padding) const {
    return at::conv3d(x, weight_, maybe(bias_), options_.stride, padding);
}

}  // namespace vmeval::nn
