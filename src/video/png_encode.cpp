#include "vmeval/video/png_encode.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "vmeval/core/error.hpp"

namespace vmeval::video {

namespace {

void put_be32(std::string& out, std::uint32_t v) {
    out += static_cast<char>(v >> 24);
    out += static_cast<char>(v >> 16);
    out += static_cast<char>(v >> 8);
    out += static_cast<char>(v);
}

void put_chunk(std::string& out, const char* type, const std::string& data) {
    put_be32(out, static_cast<std::uint32_t>(data.size()));
    const size_t body = out.size();
    out.append(type, 4);
    out += data;
    put_be32(out,
             static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(out.data() + body),
                                              static_cast<uInt>(out.size() - body))));
}

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

std::string encode_png(const Image& image, int level) {
    const size_t stride = static_cast<size_t>(image.width) * 3;
    if (image.width <= 0 || image.height <= 0 || image.rgb.size() != stride * image.height) {
        throw Error(ErrorCode::Internal,
                    "encode_png: the image is empty or its pixel buffer does "
                    "not match " +
                        std::to_string(image.width) + "x" + std::to_string(image.height));
    }
    // Sub (each byte minus the one a pixel to its left) turns flat areas into zeros and costs one
    // pass; trying every filter per row, as stb does, costs five.
    std::string raw(static_cast<size_t>(image.height) * (stride + 1), '\0');
    for (int y = 0; y < image.height; ++y) {
        const std::uint8_t* row = image.row(y);
        auto* out = reinterpret_cast<std::uint8_t*>(&raw[static_cast<size_t>(y) * (stride + 1)]);
        out[0] = 1;
        std::memcpy(out + 1, row, 3);
        for (size_t x = 3; x < stride; ++x)
            out[1 + x] = static_cast<std::uint8_t>(row[x] - row[x - 3]);
    }
    uLongf size = compressBound(static_cast<uLong>(raw.size()));
    std::string packed(size, '\0');
    if (compress2(reinterpret_cast<Bytef*>(packed.data()), &size,
                  reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                  std::clamp(level, 1, 9)) != Z_OK) {
        throw Error(ErrorCode::Internal, "encode_png: zlib failed to compress the image");
    }
    packed.resize(size);

    std::string png("\x89PNG\r\n\x1a\n", 8);
    std::string ihdr;
    put_be32(ihdr, static_cast<std::uint32_t>(image.width));
    put_be32(ihdr, static_cast<std::uint32_t>(image.height));
    ihdr.append("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, adaptive filters, no interlace
    put_chunk(png, "IHDR", ihdr);
    put_chunk(png, "IDAT", packed);
    put_chunk(png, "IEND", "");
    return png;
}

void write_png_fast(const std::filesystem::path& path, const Image& image, int level) {
    const std::string bytes = encode_png(image, level);
    errno = 0;
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
    if (!file)
        throw Error(ErrorCode::Io, "cannot write " + path.string() + ": " + std::strerror(errno));
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file.get()) == bytes.size();
    // Closing flushes the buffer, so a full disk shows up here.
    const bool closed = std::fclose(file.release()) == 0;
    if (!written || !closed) {
        throw Error(ErrorCode::Io, "cannot write " + path.string() + ": " +
                                       (errno != 0 ? std::strerror(errno) : "short write"));
    }
}

}  // namespace vmeval::video
