#pragma once

// PIL's Image.resize on 8-bit images, bit for bit: the reference pipelines resize their input
// images with PIL (svd: Lanczos through diffusers' VaeImageProcessor; Wan: the model cards'
// bicubic image.resize to the area budget), so the C++ side must produce the same pixels.

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace vmeval::nn {

enum class PilFilter { Bicubic, Lanczos };

/// Two separable passes (horizontal first, each skipped when that size is unchanged) with PIL's
/// fixed-point weights (22 fractional bits): image [H, W, C] uint8 -> [height, width, C] uint8 on
/// the CPU. The identity when the size is unchanged, as PIL returns a copy then.
at::Tensor pil_resize(const at::Tensor& image, int64_t height, int64_t width, PilFilter filter);

}  // namespace vmeval::nn
