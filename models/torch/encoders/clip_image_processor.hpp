#pragma once

// transformers' CLIPImageProcessor for one image: resize the shortest side (bicubic, antialiased),
// center crop, rescale to [0, 1], normalize with the config's mean and std. The resize runs on
// uint8 like PIL's does and lands within one grey level of it.

#include <ATen/core/Tensor.h>

#include <array>
#include <filesystem>

#include "models/torch/encoders/layers.hpp"
#include "models/torch/runtime/config.hpp"

namespace vmeval::enc {

struct CLIPImageProcessorConfig {
    bool do_resize = true;
    int64_t shortest_edge = 224;
    bool do_center_crop = true;
    int64_t crop_height = 224;
    int64_t crop_width = 224;
    bool do_rescale = true;
    double rescale_factor = 1.0 / 255.0;
    bool do_normalize = true;
    std::array<double, 3> image_mean{0.48145466, 0.4578275, 0.40821073};
    std::array<double, 3> image_std{0.26862954, 0.26130258, 0.27577711};

    /// Reads preprocessor_config.json (feature_extractor/ or image_processor/); "size" and
    /// "crop_size" may be a number or a dict, as older configs write them.
    static CLIPImageProcessorConfig from(const ConfigFile& file);
};

/// The normalize step alone, for pipelines that resize on their own (SVD resizes a [-1, 1] tensor
/// and calls the processor with only do_normalize): pixels [batch, 3, h, w] in [0, 1], any device;
/// returns float32 on the same device.
at::Tensor clip_normalize(const at::Tensor& pixels, const CLIPImageProcessorConfig& config);

/// image: [height, width, channels] uint8 (RGB; grey is repeated, alpha dropped as PIL's RGB
/// conversion does). Returns pixel_values [1, 3, crop_height, crop_width] float32 on the CPU.
at::Tensor clip_preprocess(const at::Tensor& image, const CLIPImageProcessorConfig& config);

}  // namespace vmeval::enc
