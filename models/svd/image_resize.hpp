#pragma once

// The CLIP-input resize of the Stable Video Diffusion pipeline (the VAE input goes through PIL's
// Lanczos resize, nn::pil_resize): diffusers' _resize_with_antialiasing to 224x224 (a Gaussian blur
// sized by the downscale factor, then bicubic interpolation with align_corners=True), on [-1, 1].

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace vmeval::svd {

/// diffusers' _resize_with_antialiasing on x [B, C, H, W] (floating point, any device).
at::Tensor resize_with_antialiasing(const at::Tensor& x, int64_t height, int64_t width);

}  // namespace vmeval::svd
