#include "text.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

// stb_easy_font is header-only with static functions; the ones we do not call would warn.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

namespace vmeval::video::text {

namespace {

// stb_easy_font writes quads of 4 vertices: x, y, z as floats, then 4 colour bytes.
struct Vertex {
    float x, y, z;
    std::uint8_t color[4];
};
static_assert(sizeof(Vertex) == 16, "stb_easy_font's vertex layout");

// The font's calls take a mutable char*, and index their glyph table by (c - 32): anything outside
// printable ASCII would read out of bounds, so every string goes through printable() first.
int font_width(std::string s) { return stb_easy_font_width(s.data()); }

}  // namespace

int line_height(int scale) { return 12 * scale; }

int width(const std::string& s, int scale) { return font_width(printable(s)) * scale; }

std::string printable(const std::string& s) {
    std::string out = s;
    for (char& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u == '\n' || u == '\r' || u == '\t') {
            c = ' ';
        } else if (u < 32 || u > 126) {
            c = '?';
        }
    }
    return out;
}

std::string fit(const std::string& s, int scale, int max_width) {
    std::string t = printable(s);
    if (width(t, scale) <= max_width) return t;
    while (!t.empty() && width(t + "...", scale) > max_width) t.pop_back();
    return t.empty() ? std::string() : t + "...";
}

void draw(Image& image, int x, int y, const std::string& s, int scale, RGB color) {
    std::string t = printable(s);
    if (t.empty()) return;
    // About 270 bytes a character by stb's own estimate; the widest glyphs need more.
    std::vector<Vertex> quads(t.size() * 4 * 12);
    const int n = stb_easy_font_print(0, 0, t.data(), nullptr, quads.data(),
                                      static_cast<int>(quads.size() * sizeof(Vertex)));
    for (int q = 0; q < n; ++q) {
        const Vertex& a = quads[static_cast<size_t>(q) * 4];
        const Vertex& b = quads[static_cast<size_t>(q) * 4 + 2];
        const int x0 = std::max(0, x + static_cast<int>(a.x * scale));
        const int y0 = std::max(0, y + static_cast<int>(a.y * scale));
        const int x1 = std::min(image.width, x + static_cast<int>(b.x * scale));
        const int y1 = std::min(image.height, y + static_cast<int>(b.y * scale));
        for (int py = y0; py < y1; ++py) {
            std::uint8_t* p = image.row(py) + static_cast<size_t>(x0) * 3;
            for (int px = x0; px < x1; ++px, p += 3) std::memcpy(p, color.data(), 3);
        }
    }
}

}  // namespace vmeval::video::text
