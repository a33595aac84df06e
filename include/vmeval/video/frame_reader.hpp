#pragma once

#include <filesystem>
#include <vector>

#include "vmeval/video/image.hpp"

namespace vmeval::video {

/// Decodes the frames at `indices` (0-based in display order; asked in any order, repeats allowed)
/// of a video file to RGB8 and returns them in the order asked. The file is decoded once from the
/// start, and only the wanted frames are converted. Throws Error(Video) naming the file when it
/// cannot be opened or decoded, or when it holds fewer frames than an index asks for.
std::vector<Image> read_frames(const std::filesystem::path& path, const std::vector<int>& indices);

}  // namespace vmeval::video
