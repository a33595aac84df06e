#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "vmeval/video/image.hpp"

namespace vmeval::video::text {

using RGB = std::array<std::uint8_t, 3>;

/// Height of one line of text in pixels at `scale` (the font's cell is 12 units high).
int line_height(int scale);

/// Width in pixels of `text` drawn at `scale`.
int width(const std::string& text, int scale);

/// `text` as the font can draw it: printable ASCII only, anything else becomes '?', whitespace a
/// space.
std::string printable(const std::string& text);

/// `text` shortened with "..." so that it is at most `max_width` pixels wide at `scale`.
std::string fit(const std::string& text, int scale, int max_width);

/// Draws one line of printable ASCII with its top-left corner at (x, y), `scale` pixels per font
/// unit; whatever falls outside the image is clipped.
void draw(Image& image, int x, int y, const std::string& text, int scale, RGB color);

}  // namespace vmeval::video::text
