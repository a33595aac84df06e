#include "torch/support/video_check.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <vector>

#include "vmeval/video/frame_reader.hpp"
#include "vmeval/video/image.hpp"
#include "vmeval/video/mp4_writer.hpp"

namespace vmeval::testing {

namespace {

at::Tensor chw_float(const video::Image& img) {
    return at::from_blob(const_cast<uint8_t*>(img.rgb.data()), {img.height, img.width, 3}, at::kByte)
        .permute({2, 0, 1})
        .to(at::kFloat);
}

}  // namespace

void expect_video_matches_frames(const std::filesystem::path& video, const at::Tensor& frames_u8, double fps,
                                 const std::filesystem::path& scratch, double raw_bound) {
    const auto frames = static_cast<int>(frames_u8.size(1));
    std::vector<int> indices;
    for (int i = 0; i < frames; ++i) indices.push_back(i);
    auto decoded = video::read_frames(video, indices);
    ASSERT_EQ(static_cast<int64_t>(decoded.size()), frames_u8.size(1));

    auto reference_path = scratch / "reference.mp4";
    {
        video::Mp4Writer writer(reference_path, video::Mp4Options{fps});
        for (int i = 0; i < frames; ++i) {
            auto hwc = frames_u8[0][i].permute({1, 2, 0}).contiguous();
            video::Image img(static_cast<int>(hwc.size(1)), static_cast<int>(hwc.size(0)));
            std::memcpy(img.rgb.data(), hwc.data_ptr<uint8_t>(), img.rgb.size());
            writer.add(img);
        }
        writer.finish();
    }
    auto reference = video::read_frames(reference_path, indices);
    double worst_coded = 0, worst_raw = 0;
    for (int i = 0; i < frames; ++i) {
        const auto& img = decoded[static_cast<std::size_t>(i)];
        ASSERT_EQ(img.width, frames_u8.size(4));
        ASSERT_EQ(img.height, frames_u8.size(3));
        auto got = chw_float(img);
        const double coded = (got - chw_float(reference[static_cast<std::size_t>(i)])).abs().mean().item<double>();
        const double raw = (got - frames_u8[0][i].to(at::kFloat)).abs().mean().item<double>();
        EXPECT_LT(coded, 0.5) << "frame " << i;
        EXPECT_LT(raw, raw_bound) << "frame " << i;
        worst_coded = std::max(worst_coded, coded);
        worst_raw = std::max(worst_raw, raw);
    }
    std::cout << frames << " frames: worst mean |vmeval - reference| " << worst_coded
              << " levels through the same writer, " << worst_raw << " against the raw frames\n";
}

}  // namespace vmeval::testing
