#pragma once

// The svd tests' check of a written MP4 against diffusers' frames for the same seed.

#include <filesystem>

namespace vmeval::testing {

/// Expects `video` to hold the golden run's frames (`<golden>/pipeline_seeded.safetensors`,
/// frames_u8 [1, F, 3, H, W]): same count and size; on average under 0.5 of an 8-bit level from
/// diffusers' frames pushed through the same H.264 writer (x264 is deterministic, so the codec's
/// loss drops out); under 16 levels from the raw frames (4:2:0 chroma on a tiny, noisy clip).
/// `scratch` is a folder for the reference MP4.
void expect_svd_video_matches_golden(const std::filesystem::path& video, const std::filesystem::path& golden,
                                     const std::filesystem::path& scratch);

}  // namespace vmeval::testing
