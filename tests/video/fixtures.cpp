#include "video/fixtures.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "vmeval/video/mp4_writer.hpp"

namespace vmeval::testkit {

video::Image moving_square(int w, int h, int index) {
    video::Image img(w, h);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            std::uint8_t* p = img.row(y) + x * 3;
            const bool square =
                x >= index * 3 && x < index * 3 + 10 && y >= h / 3 && y < h / 3 + 10;
            p[0] = static_cast<std::uint8_t>(x * 255 / w);
            p[1] = static_cast<std::uint8_t>(y * 255 / h);
            p[2] = square ? 255 : 20;
        }
    }
    return img;
}

video::Image solid(int w, int h, std::array<std::uint8_t, 3> c) {
    video::Image img(w, h);
    for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = c[i % 3];
    return img;
}

void write_video(const std::filesystem::path& path, const std::vector<video::Image>& frames,
                 double fps) {
    video::Mp4Writer writer(path, video::Mp4Options{fps});
    for (const auto& f : frames) writer.add(f);
    writer.finish();
}

void zero_media_data(const std::filesystem::path& path) {
    std::string bytes;
    {
        std::ifstream in(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    // A box is a 32-bit big-endian size (header included) followed by its 4-letter type.
    const size_t tag = bytes.find("mdat");
    if (tag == std::string::npos || tag < 4)
        throw std::runtime_error("no mdat box in " + path.string());
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + tag - 4);
    const size_t size = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | p[3];
    if (size <= 8 || tag - 4 + size > bytes.size()) {
        throw std::runtime_error("unexpected mdat box size in " + path.string());
    }
    std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(tag + 4),
              bytes.begin() + static_cast<std::ptrdiff_t>(tag - 4 + size), '\0');
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace vmeval::testkit
