#pragma once

// What every local model does with its decoded frames: round them to 8 bits as the reference
// pipelines' numpy output does, write the MP4, and report where and how it ran.

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "models/torch/runtime/device.hpp"

namespace vmeval::nn {

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
