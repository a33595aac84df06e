#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace vmeval::video {

/// A video file's properties as read back by FFmpeg: what decides whether a run produced a video.
struct VideoProbe {
    std::string container;    ///< e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    std::string codec;        ///< e.g. "h264"
    std::string pixel_format; ///< e.g. "yuv420p"
    int width = 0;
    int height = 0;
    std::int64_t frames = 0;  ///< video packets actually present in the file (counted, not the header's claim)
    double fps = 0;           ///< average frame rate
    double duration_s = 0;
    std::uintmax_t bytes = 0;
};

/// Opens and reads through a video file. Throws Error(Video) naming the file when it is missing, cannot
/// be parsed, has no video stream or holds no frames.
VideoProbe probe_video(const std::filesystem::path& path);

}  // namespace vmeval::video
