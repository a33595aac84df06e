#pragma once

// The two image resizes of the Stable Video Diffusion pipeline, matched to the reference:
// - the VAE input goes through PIL's Image.resize((width, height)) with its default Lanczos filter
//   (diffusers VaeImageProcessor, resize_mode "default": no crop, the aspect ratio follows the
//   requested size);
// - the CLIP input is resized to 224x224 by diffusers' _resize_with_antialiasing (a Gaussian blur
//   sized by the downscale factor, then bicubic interpolation with align_corners=True), on [-1, 1].

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace vmeval::svd {

/// PIL's 8-bit Lanczos resample (two separable passes, horizontal first, fixed-point weights with
/// 22 fractional bits): image [H, W, C] uint8 on the CPU -> [height, width, C] uint8. The identity
/// when the size is unchanged, as PIL returns a copy then.
at::Tensor pil_lanczos_resize(const at::Tensor& image, int64_t height, int64_t width);

/// diffusers' _resize_with_antialiasing on x [B, C, H, W] (floating point, any device).
at::Tensor resize_with_antialiasing(const at::Tensor& x, int64_t height, int64_t width);

}  // namespace vmeval::svd
