#include "models/torch/blocks/causal_conv.hpp"

#include <ATen/ATen.h>

namespace vmeval::nn {

CausalConv3d::CausalConv3d(int64_t in, int64_t out, std::array<int64_t, 3> kernel, std::array<int64_t, 3> stride,
                           std::array<int64_t, 3> padding)
    : Conv3d(Conv3dOptions{in, out, kernel, stride, {0, 0, 0}, true}), padding_(padding) {}

at::Tensor CausalConv3d::forward(const at::Tensor& x, const std::optional<at::Tensor>& cache) const {
    int64_t left = 2 * padding_[0];
    at::Tensor input = x;
    if (cache && cache->defined() && left > 0) {
        input = at::cat({cache->to(x.device(), x.scalar_type()), x}, 2);
        left -= cache->size(2);
    }
    // F.pad order: (w_left, w_right, h_top, h_bottom, t_front, t_back); a negative front pad
    // trims, as in the reference when the cache is longer than the padding.
    input = at::constant_pad_nd(input, {padding_[2], padding_[2], padding_[1], padding_[1], left, 0});
    return forward_padded(input, {0, 0, 0});
}

at::Tensor CausalConv3d::forward_chunk(const at::Tensor& x, std::optional<at::Tensor>& cache) const {
    auto out = forward(x, cache);
    auto history = (cache && cache->defined()) ? at::cat({*cache, x}, 2) : x;
    const int64_t keep = std::min<int64_t>(kCausalCacheFrames, history.size(2));
    cache = history.slice(2, history.size(2) - keep).clone();
    return out;
}

}  // namespace vmeval::nn
