#include "models/svd/image_resize.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "vmeval/core/error.hpp"

namespace vmeval::svd {

namespace {

/// diffusers' _gaussian: a normalised kernel of `size` taps (odd) in the input's dtype.
at::Tensor gaussian(int64_t size, double sigma, const at::TensorOptions& options) {
    auto x = at::arange(size, options) - static_cast<double>(size / 2);
    auto s = at::full({1}, sigma, options);
    auto g = at::exp(-x.pow(2.0) / (2 * s.pow(2.0)));
    return g / g.sum(-1, true);
}

/// Depthwise convolution with reflect padding, as diffusers' _filter2d; kernel [kh, kw].
at::Tensor filter2d(const at::Tensor& x, const at::Tensor& kernel) {
    const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    const int64_t kh = kernel.size(0), kw = kernel.size(1);
    const int64_t left = (kw - 1) / 2, right = (kw - 1) - left, top = (kh - 1) / 2,
                  bottom = (kh - 1) - top;
    auto padded = at::pad(x, {left, right, top, bottom}, "reflect");
    auto weight = kernel.unsqueeze(0).unsqueeze(0).expand({c, 1, kh, kw}).contiguous();
    auto out = at::conv2d(padded, weight, at::Tensor(), at::IntArrayRef{1, 1},
                          at::IntArrayRef{0, 0}, at::IntArrayRef{1, 1}, c);
    return out.view({b, c, h, w});
}

}  // namespace

at::Tensor resize_with_antialiasing(const at::Tensor& x, int64_t height, int64_t width) {
    const double fy = static_cast<double>(x.size(-2)) / static_cast<double>(height);
    const double fx = static_cast<double>(x.size(-1)) / static_cast<double>(width);
    const double sy = std::max((fy - 1.0) / 2.0, 0.001), sx = std::max((fx - 1.0) / 2.0, 0.001);
    // Two sigmas each side (Pillow uses one, three would be slow), at least 3 taps, always odd.
    int64_t ky = static_cast<int64_t>(std::max(2.0 * 2 * sy, 3.0));
    int64_t kx = static_cast<int64_t>(std::max(2.0 * 2 * sx, 3.0));
    if (ky % 2 == 0) ++ky;
    if (kx % 2 == 0) ++kx;
    // The reference builds the sigmas as a tensor of the input's dtype.
    const auto options = x.options();
    const double sigma_y = at::full({1}, sy, options).item<double>();
    const double sigma_x = at::full({1}, sx, options).item<double>();
    auto blurred = filter2d(x, gaussian(kx, sigma_x, options).unsqueeze(0));
    blurred = filter2d(blurred, gaussian(ky, sigma_y, options).unsqueeze(1));
    return at::upsample_bicubic2d(blurred, {height, width}, true);
}

}  // namespace vmeval::svd
