#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "vmeval/video/image.hpp"

namespace vmeval::testkit {

/// A gradient with a 10-pixel square that moves right by 3 pixels a frame: every frame is distinct.
video::Image moving_square(int width, int height, int index);
/// One colour everywhere.
video::Image solid(int width, int height, std::array<std::uint8_t, 3> colour);
/// Writes the frames as an MP4 at `fps` with the project's writer.
void write_video(const std::filesystem::path& path, const std::vector<video::Image>& frames,
                 double fps = 8.0);
/// Overwrites an MP4's media data with zeros but keeps its index: the file still probes (packets
/// are counted from the index) while no frame decodes. Throws std::runtime_error if it finds no
/// mdat box.
void zero_media_data(const std::filesystem::path& path);

}  // namespace vmeval::testkit
