#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace vmeval::video {

/// An 8-bit RGB image, rows top to bottom, no padding.
struct Image {
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> rgb;  ///< width * height * 3 bytes

    Image() = default;
    Image(int w, int h) : width(w), height(h), rgb(static_cast<size_t>(w) * h * 3, 0) {}
    std::uint8_t* row(int y) { return rgb.data() + static_cast<size_t>(y) * width * 3; }
    const std::uint8_t* row(int y) const { return rgb.data() + static_cast<size_t>(y) * width * 3; }
};

/// What a PNG's header says, read without decoding the pixels.
struct PngHeader {
    int width = 0;
    int height = 0;
    int bit_depth = 0;   ///< 1, 2, 4, 8 or 16
    int color_type = 0;  ///< PNG colour type: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
};

/// Smallest and largest side a question image may have; outside this the question is rejected.
inline constexpr int kMinImageSide = 16;
inline constexpr int kMaxImageSide = 8192;

/// Checks the PNG signature and IHDR chunk and the size limits. Throws Error(InvalidQuestion) naming
/// the file and what is wrong ("is a JPEG file, not PNG", "is 0x0 pixels", ...).
PngHeader read_png_header(const std::filesystem::path& path);

/// Decodes a PNG (any bit depth, palette, grey, alpha) to RGB8; alpha is composited over white.
/// Throws Error(InvalidQuestion) naming the file when it is not a valid PNG or out of size limits.
Image load_png(const std::filesystem::path& path);

/// Writes an RGB8 image as PNG; throws Error(Io) naming the file.
void write_png(const std::filesystem::path& path, const Image& image);

/// Resizes with a good-quality filter (stb_image_resize); returns a copy when the size is unchanged.
Image resize(const Image& image, int width, int height);

}  // namespace vmeval::video
