#include "models/torch/runtime/frames.hpp"

#include <ATen/ATen.h>

#include <cstring>

#include "vmeval/core/error.hpp"
#include "vmeval/video/mp4_writer.hpp"

namespace vmeval::nn {

at::Tensor rgb_tensor(const video::Image& image) {
    return at::from_blob(const_cast<uint8_t*>(image.rgb.data()), {image.height, image.width, 3}, at::kByte).clone();
}

at::Tensor to_rgb8(const at::Tensor& video) {
    if (video.dim() != 5 || video.size(0) != 1 || video.size(2) != 3)
        throw Error(ErrorCode::Internal, "to_rgb8: expected [1, F, 3, H, W] frames");
    return (video[0] * 255.0).round().clamp(0, 255).to(at::kByte).permute({0, 2, 3, 1}).contiguous().cpu();
}

void write_mp4(const at::Tensor& rgb8, const std::filesystem::path& path, double fps,
               const std::function<bool()>& cancelled) {
    video::Mp4Writer writer(path, video::Mp4Options{fps});
    const int64_t height = rgb8.size(1), width = rgb8.size(2);
    for (int64_t i = 0; i < rgb8.size(0); ++i) {
        if (cancelled && cancelled()) throw Error(ErrorCode::Cancelled, "interrupted");
        video::Image img(static_cast<int>(width), static_cast<int>(height));
        std::memcpy(img.rgb.data(), rgb8[i].data_ptr<uint8_t>(), img.rgb.size());
        writer.add(img);
    }
    writer.finish();
}

nlohmann::json resources(const Placement& placement, const PeakMemory& peak) {
    return {{"device", device_name(placement.device)},
            {"precision", precision_name(placement.dtype)},
            {"peak_memory_bytes", peak.bytes()},
            {"peak_memory_kind", peak.kind()}};
}

}  // namespace vmeval::nn
