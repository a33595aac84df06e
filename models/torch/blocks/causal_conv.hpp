#pragma once

// Wan's causal 3D convolution (WanCausalConv3d in autoencoder_kl_wan.py): all time padding goes
// before the first frame, so frame t never sees later frames, and a video can be processed in
// chunks by feeding the last frames of the previous chunk back as `cache`.

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <optional>

#include "models/torch/blocks/layers.hpp"

namespace vmeval::nn {

/// The number of past frames the Wan VAE keeps per causal conv between chunks (CACHE_T).
inline constexpr int64_t kCausalCacheFrames = 2;

/// Inherits Conv3d so the weights are "weight"/"bias" on this module, as on the nn.Conv3d
/// subclass the reference uses.
class CausalConv3d : public Conv3d {
public:
    /// `padding` as nn.Conv3d takes it: time padding p becomes 2p frames on the left only.
    CausalConv3d(int64_t in_channels, int64_t out_channels, std::array<int64_t, 3> kernel,
                 std::array<int64_t, 3> stride = {1, 1, 1}, std::array<int64_t, 3> padding = {0, 0, 0});
    /// x [B, C, T, H, W]; `cache` holds frames that precede x (they replace as much left zero
    /// padding as they cover), as WanCausalConv3d.forward(x, cache_x).
    at::Tensor forward(const at::Tensor& x, const std::optional<at::Tensor>& cache = std::nullopt) const;
    /// Chunked evaluation: runs forward(x, cache) and replaces `cache` with the last
    /// kCausalCacheFrames frames of (cache, x), the frames the next chunk needs.
    at::Tensor forward_chunk(const at::Tensor& x, std::optional<at::Tensor>& cache) const;

private:
    std::array<int64_t, 3> padding_;
};

}  // namespace vmeval::nn
