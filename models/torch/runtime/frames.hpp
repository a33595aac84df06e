#pragma once

// Frames between vmeval's images and the local models' tensors: the question's image in, the
// decoded video rounded to 8 bits as the reference pipelines' numpy output is and written as MP4
// out, and the run's resources for metadata.json.

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "models/torch/runtime/device.hpp"
#include "vmeval/video/image.hpp"

namespace vmeval::nn {

/// The image as a [H, W, 3] uint8 tensor on the CPU (a copy).
at::Tensor rgb_tensor(const video::Image& image);

/// [1, F, 3, H, W] in [0, 1] -> [F, H, W, 3] uint8 on the CPU: x * 255, rounded half to even,
/// clamped (diffusers' numpy_to_pil / postprocess "np" rounding).
at::Tensor to_rgb8(const at::Tensor& video);

/// Writes [F, H, W, 3] uint8 frames as an H.264 MP4 at `fps`. `cancelled` is asked before each
/// frame; when it answers true this throws Error(Cancelled) without finishing the file.
void write_mp4(const at::Tensor& rgb8, const std::filesystem::path& path, double fps,
               const std::function<bool()>& cancelled);

/// metadata.json's "resources": {device, precision, peak_memory_bytes, peak_memory_kind}.
nlohmann::json resources(const Placement& placement, const PeakMemory& peak);

}  // namespace vmeval::nn
