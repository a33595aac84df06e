#include "vmeval/video/image.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>

#include "vmeval/core/error.hpp"

namespace vmeval::video {

namespace {

namespace fs = std::filesystem;

constexpr std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
// Enough for the signature and IHDR, and for spotting "<svg" after an XML prolog or a comment.
constexpr size_t kSniffBytes = 512;

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

[[noreturn]] void invalid(const fs::path& path, const std::string& what) {
    throw Error(ErrorCode::InvalidQuestion, path.string() + " " + what);
}

[[noreturn]] void unreadable(const fs::path& path, int err) {
    throw Error(ErrorCode::InvalidQuestion,
                "cannot read " + path.string() + ": " + std::strerror(err));
}

std::uint32_t be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

bool starts_with(const std::vector<std::uint8_t>& bytes, const char* prefix) {
    size_t n = std::strlen(prefix);
    return bytes.size() >= n && std::memcmp(bytes.data(), prefix, n) == 0;
}

bool contains(const std::vector<std::uint8_t>& bytes, const char* needle) {
    std::string text(bytes.begin(), bytes.end());
    return text.find(needle) != std::string::npos;
}

// Reads the whole file (or only its first `limit` bytes); errors name the path and errno.
std::vector<std::uint8_t> read_bytes(const fs::path& path, size_t limit) {
    errno = 0;
    FilePtr file(std::fopen(path.c_str(), "rb"));
    if (!file) unreadable(path, errno);
    std::vector<std::uint8_t> bytes;
    std::uint8_t buffer[64 * 1024];
    while (bytes.size() < limit) {
        size_t want = std::min(sizeof(buffer), limit - bytes.size());
        size_t got = std::fread(buffer, 1, want, file.get());
        bytes.insert(bytes.end(), buffer, buffer + got);
        if (got < want) {
            // fopen succeeds on a directory; the read is where EISDIR shows up.
            if (std::ferror(file.get())) unreadable(path, errno != 0 ? errno : EIO);
            break;
        }
    }
    return bytes;
}

// The usual mistake is a JPEG or screenshot renamed to .png; naming the real format and the fix
// saves the user a trip to `file`.
[[noreturn]] void not_png(const fs::path& path, const std::vector<std::uint8_t>& head) {
    if (head.empty()) invalid(path, "is an empty file (0 bytes), not a PNG image");
    std::string target = path.stem().string() + ".png";
    auto convert = [&](const char* kind, const char* ext) {
        invalid(path, std::string("is a ") + kind +
                          " file, not a PNG: convert it to PNG (for example `ffmpeg -i in." + ext +
                          " " + target + "`)");
    };
    if (head.size() >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) {
        convert("JPEG", "jpg");
    }
    if (starts_with(head, "GIF87a") || starts_with(head, "GIF89a")) convert("GIF", "gif");
    if (starts_with(head, "BM")) convert("BMP", "bmp");
    if (head.size() >= 12 && starts_with(head, "RIFF") && std::memcmp(&head[8], "WEBP", 4) == 0) {
        convert("WebP", "webp");
    }
    if (contains(head, "<svg") || contains(head, "<?xml")) {
        invalid(path, "is an SVG/XML text file, not a PNG: render it to PNG (for example " +
                          std::string("`rsvg-convert -o ") + target + " in.svg`)");
    }
    invalid(path, "is not a PNG file (it does not start with the PNG signature)");
}

bool valid_depth(int color_type, int depth) {
    switch (color_type) {
        case 0: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
        case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
        case 2:
        case 4:
        case 6: return depth == 8 || depth == 16;
        default: return false;
    }
}

PngHeader parse_header(const fs::path& path, const std::vector<std::uint8_t>& head) {
    if (head.size() < sizeof(kPngSignature) ||
        std::memcmp(head.data(), kPngSignature, sizeof(kPngSignature)) != 0) {
        not_png(path, head);
    }
    // Signature (8) + length (4) + "IHDR" (4) + 13 bytes of fields.
    if (head.size() < 8 + 4 + 4 + 13) {
        invalid(path, "is truncated: the PNG header (IHDR) is incomplete");
    }
    if (std::memcmp(&head[12], "IHDR", 4) != 0 || be32(&head[8]) != 13) {
        invalid(path, "is a damaged PNG: the first chunk is not a valid IHDR header");
    }
    std::uint32_t width = be32(&head[16]);
    std::uint32_t height = be32(&head[20]);
    PngHeader header;
    header.bit_depth = head[24];
    header.color_type = head[25];
    if (!valid_depth(header.color_type, header.bit_depth)) {
        invalid(path, "is a damaged PNG: colour type " + std::to_string(header.color_type) +
                          " with bit depth " + std::to_string(header.bit_depth) +
                          " is not allowed");
    }
    auto in_limits = [](std::uint32_t side) {
        return side >= static_cast<std::uint32_t>(kMinImageSide) &&
               side <= static_cast<std::uint32_t>(kMaxImageSide);
    };
    if (!in_limits(width) || !in_limits(height)) {
        invalid(path, "is " + std::to_string(width) + "x" + std::to_string(height) +
                          " pixels; each side must be between " + std::to_string(kMinImageSide) +
                          " and " + std::to_string(kMaxImageSide) + " pixels");
    }
    header.width = static_cast<int>(width);
    header.height = static_cast<int>(height);
    return header;
}

struct StbiFree {
    void operator()(stbi_uc* p) const { stbi_image_free(p); }
};

}  // namespace

PngHeader read_png_header(const fs::path& path) {
    return parse_header(path, read_bytes(path, kSniffBytes));
}

Image load_png(const fs::path& path) {
    // The header check reads a few bytes only, so a large non-PNG file is rejected before it is
    // read whole.
    PngHeader header = read_png_header(path);
    std::vector<std::uint8_t> bytes = read_bytes(path, static_cast<size_t>(-1));
    if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
        invalid(path, "is too large to decode");
    }

    int w = 0;
    int h = 0;
    int channels = 0;
    // Asking for 4 channels makes stb expand grey, palette (with tRNS) and 16-bit data to RGBA8.
    std::unique_ptr<stbi_uc, StbiFree> rgba(
        stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &channels, 4));
    if (!rgba) {
        const char* reason = stbi_failure_reason();
        invalid(path, std::string("is not a valid PNG (truncated or corrupt): ") +
                          (reason != nullptr ? reason : "unknown decoder error"));
    }
    if (w != header.width || h != header.height) {
        invalid(path, "decoded to a different size than its header says");
    }

    Image image(w, h);
    const stbi_uc* src = rgba.get();
    std::uint8_t* dst = image.rgb.data();
    size_t pixels = static_cast<size_t>(w) * h;
    for (size_t i = 0; i < pixels; ++i, src += 4, dst += 3) {
        unsigned a = src[3];
        // Models see no alpha; white is what most viewers show behind transparent question images.
        for (int c = 0; c < 3; ++c) {
            dst[c] = static_cast<std::uint8_t>((src[c] * a + 255u * (255u - a) + 127u) / 255u);
        }
    }
    return image;
}

void write_png(const fs::path& path, const Image& image) {
    size_t expected = static_cast<size_t>(image.width) * image.height * 3;
    if (image.width <= 0 || image.height <= 0 || image.rgb.size() != expected) {
        throw Error(ErrorCode::Io, "cannot write " + path.string() +
                                       ": the image is empty or its pixel buffer does not match " +
                                       std::to_string(image.width) + "x" +
                                       std::to_string(image.height));
    }
    errno = 0;
    if (stbi_write_png(path.c_str(), image.width, image.height, 3, image.rgb.data(),
                       image.width * 3) == 0) {
        std::string reason = errno != 0 ? std::strerror(errno) : "the PNG encoder failed";
        throw Error(ErrorCode::Io, "cannot write " + path.string() + ": " + reason);
    }
}

Image resize(const Image& image, int width, int height) {
    if (width <= 0 || height <= 0 || image.width <= 0 || image.height <= 0) {
        throw Error(ErrorCode::Internal, "resize: cannot resize " + std::to_string(image.width) +
                                             "x" + std::to_string(image.height) + " to " +
                                             std::to_string(width) + "x" + std::to_string(height));
    }
    if (width == image.width && height == image.height) return image;
    Image out(width, height);
    // The sRGB variant filters in linear light, so downscaled edges keep their brightness.
    if (stbir_resize_uint8_srgb(image.rgb.data(), image.width, image.height, 0, out.rgb.data(),
                                width, height, 0, 3, STBIR_ALPHA_CHANNEL_NONE, 0) == 0) {
        throw Error(ErrorCode::Internal, "resize: stb_image_resize failed");
    }
    return out;
}

}  // namespace vmeval::video
