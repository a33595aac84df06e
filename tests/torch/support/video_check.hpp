#pragma once

// The end-to-end tests' check of a written MP4 against diffusers' frames for the same seed.

#include <ATen/core/Tensor.h>

#include <filesystem>

namespace vmeval::testing {

/// Expects `video` to hold `frames_u8` ([1, F, 3, H, W] uint8, diffusers' frames rounded to 8
/// bits): same count and size; on average under 0.5 of an 8-bit level from those frames pushed
/// through the same H.264 writer at `fps` (x264 is deterministic, so the codec's loss drops out);
/// under `raw_bound` levels from the raw frames, a check that the codec kept the picture: 4:2:0
/// chroma costs a lot on tiny clips whose random-weight decoders paint pixel-scale colour noise
/// (16 suits svd's, 64 the Wan VAEs'). `scratch` is a folder for the reference MP4.
void expect_video_matches_frames(const std::filesystem::path& video, const at::Tensor& frames_u8, double fps,
                                 const std::filesystem::path& scratch, double raw_bound = 16.0);

}  // namespace vmeval::testing
