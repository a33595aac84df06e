#include "vmeval/video/image.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"

namespace {

using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::testkit::TempDir;
using Bytes = std::vector<std::uint8_t>;
namespace video = vmeval::video;
namespace fs = std::filesystem;

void write_bytes(const fs::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
}

Bytes read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void put32(Bytes& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<std::uint8_t>(v >> shift));
}

std::uint32_t crc32(const std::uint8_t* data, size_t n) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; ++i) {
        crc ^= data[i];
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

void put_chunk(Bytes& out, const char* type, const Bytes& data) {
    put32(out, static_cast<std::uint32_t>(data.size()));
    size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    put32(out, crc32(&out[start], out.size() - start));
}

// A zlib stream of stored (uncompressed) deflate blocks: valid input for any PNG decoder, and it
// keeps the tests free of a zlib dependency.
Bytes zlib_stored(const Bytes& data) {
    Bytes out = {0x78, 0x01};
    size_t pos = 0;
    do {
        size_t n = std::min<size_t>(65535, data.size() - pos);
        bool last = pos + n == data.size();
        out.push_back(last ? 1 : 0);
        out.push_back(static_cast<std::uint8_t>(n));
        out.push_back(static_cast<std::uint8_t>(n >> 8));
        out.push_back(static_cast<std::uint8_t>(~n));
        out.push_back(static_cast<std::uint8_t>(~n >> 8));
        out.insert(out.end(), data.begin() + static_cast<long>(pos),
                   data.begin() + static_cast<long>(pos + n));
        pos += n;
    } while (pos < data.size());
    std::uint32_t a = 1, b = 0;
    for (std::uint8_t byte : data) {
        a = (a + byte) % 65521;
        b = (b + a) % 65521;
    }
    put32(out, (b << 16) | a);
    return out;
}

Bytes png_signature() { return {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}; }

Bytes ihdr(std::uint32_t w, std::uint32_t h, int depth, int color_type) {
    Bytes data;
    put32(data, w);
    put32(data, h);
    data.insert(data.end(),
                {static_cast<std::uint8_t>(depth), static_cast<std::uint8_t>(color_type), 0, 0, 0});
    return data;
}

// `rows` are the raw scanlines without filter bytes; every row gets filter 0 (None).
Bytes make_png(int w, int h, int depth, int color_type, const std::vector<Bytes>& rows,
               const Bytes& plte = {}, const Bytes& trns = {}) {
    Bytes out = png_signature();
    put_chunk(
        out, "IHDR",
        ihdr(static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(h), depth, color_type));
    if (!plte.empty()) put_chunk(out, "PLTE", plte);
    if (!trns.empty()) put_chunk(out, "tRNS", trns);
    Bytes raw;
    for (const Bytes& row : rows) {
        raw.push_back(0);
        raw.insert(raw.end(), row.begin(), row.end());
    }
    put_chunk(out, "IDAT", zlib_stored(raw));
    put_chunk(out, "IEND", {});
    return out;
}

// Expects the call to throw InvalidQuestion with a message that starts with the path and holds
// `needle`.
template <typename F>
void expect_invalid(const fs::path& path, F&& call, const std::string& needle) {
    try {
        call();
        FAIL() << "no error for " << path;
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidQuestion) << e.what();
        std::string msg = e.what();
        EXPECT_EQ(msg.rfind(path.string(), 0), 0u) << msg;
        EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
}

void expect_header_rejects(const fs::path& path, const std::string& needle) {
    expect_invalid(
        path, [&] { video::read_png_header(path); }, needle);
    expect_invalid(
        path, [&] { video::load_png(path); }, needle);
}

const std::uint8_t* pixel(const video::Image& img, int x, int y) { return img.row(y) + x * 3; }

}  // namespace

TEST(PngHeader, ReadsSizeDepthAndColourType) {
    TempDir dir;
    vmeval::testkit::write_test_png(dir / "a.png", 64, 48);
    video::PngHeader h = video::read_png_header(dir / "a.png");
    EXPECT_EQ(h.width, 64);
    EXPECT_EQ(h.height, 48);
    EXPECT_EQ(h.bit_depth, 8);
    EXPECT_EQ(h.color_type, 2);
}

TEST(PngHeader, NamesOtherImageFormats) {
    TempDir dir;
    struct Case {
        const char* name;
        Bytes bytes;
        const char* needle;
    };
    const std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\"/>";
    const std::string xml = "<?xml version=\"1.0\"?>\n<!-- drawn by hand -->\n<svg/>";
    const std::vector<Case> cases = {
        {"jpeg.png", {0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}, "is a JPEG file"},
        {"gif.png", {'G', 'I', 'F', '8', '9', 'a', 64, 0, 48, 0}, "is a GIF file"},
        {"bmp.png", {'B', 'M', 0x36, 0, 0, 0, 0, 0}, "is a BMP file"},
        {"webp.png",
         {'R', 'I', 'F', 'F', 0x24, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8'},
         "is a WebP file"},
        {"svg.png", Bytes(svg.begin(), svg.end()), "SVG"},
        {"xml.png", Bytes(xml.begin(), xml.end()), "SVG"},
        {"empty.png", {}, "empty file"},
        {"text.png", {'h', 'e', 'l', 'l', 'o'}, "not a PNG"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        write_bytes(dir / c.name, c.bytes);
        expect_header_rejects(dir / c.name, c.needle);
    }
    // The fix is part of the message.
    try {
        video::read_png_header(dir / "jpeg.png");
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("ffmpeg -i in.jpg jpeg.png"), std::string::npos)
            << e.what();
    }
}

TEST(PngHeader, MissingFileAndDirectoryAreUnreadable) {
    TempDir dir;
    for (const fs::path& p : {dir / "missing.png", dir.path()}) {
        try {
            video::read_png_header(p);
            FAIL() << "no error for " << p;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::InvalidQuestion);
            EXPECT_EQ(std::string(e.what()).rfind("cannot read " + p.string() + ": ", 0), 0u)
                << e.what();
        }
    }
}

TEST(PngHeader, RejectsSizesOutsideLimits) {
    TempDir dir;
    struct Case {
        std::uint32_t w, h;
        const char* needle;
    };
    for (const Case& c : {Case{0, 0, "is 0x0 pixels"}, Case{20000, 10, "is 20000x10 pixels"},
                          Case{8, 8, "is 8x8 pixels"}, Case{64, 9000, "is 64x9000 pixels"}}) {
        Bytes bytes = png_signature();
        put_chunk(bytes, "IHDR", ihdr(c.w, c.h, 8, 2));
        fs::path p = dir / (std::to_string(c.w) + "x" + std::to_string(c.h) + ".png");
        write_bytes(p, bytes);
        expect_header_rejects(p, c.needle);
        expect_header_rejects(p, "between 16 and 8192");
    }
}

TEST(PngHeader, RejectsMissingOrBadIhdr) {
    TempDir dir;
    Bytes no_ihdr = png_signature();
    put_chunk(no_ihdr, "tEXt", {'a', 0, 'b'});
    put_chunk(no_ihdr, "IHDR", ihdr(64, 48, 8, 2));
    write_bytes(dir / "order.png", no_ihdr);
    expect_header_rejects(dir / "order.png", "IHDR");

    Bytes bad_depth = png_signature();
    put_chunk(bad_depth, "IHDR", ihdr(64, 48, 16, 3));  // palettes stop at 8 bits
    write_bytes(dir / "depth.png", bad_depth);
    expect_header_rejects(dir / "depth.png", "bit depth 16");

    write_bytes(dir / "short.png", png_signature());
    expect_header_rejects(dir / "short.png", "truncated");
}

TEST(LoadPng, TruncatedFileIsInvalid) {
    TempDir dir;
    vmeval::testkit::write_test_png(dir / "full.png", 64, 48);
    Bytes bytes = read_bytes(dir / "full.png");
    bytes.resize(bytes.size() / 2);
    write_bytes(dir / "half.png", bytes);
    EXPECT_NO_THROW(video::read_png_header(dir / "half.png"));  // the header survives the cut
    expect_invalid(
        dir / "half.png", [&] { video::load_png(dir / "half.png"); }, "corrupt");
}

TEST(LoadPng, Decodes16BitRgb) {
    TempDir dir;
    std::vector<Bytes> rows;
    for (int y = 0; y < 16; ++y) {
        Bytes row;
        for (int x = 0; x < 16; ++x) {
            // Distinct high bytes per channel; the low byte must not matter.
            for (std::uint8_t hi : {static_cast<std::uint8_t>(x * 16),
                                    static_cast<std::uint8_t>(y * 16), std::uint8_t{0xAB}}) {
                row.push_back(hi);
                row.push_back(0xCD);
            }
        }
        rows.push_back(row);
    }
    write_bytes(dir / "deep.png", make_png(16, 16, 16, 2, rows));
    EXPECT_EQ(video::read_png_header(dir / "deep.png").bit_depth, 16);
    video::Image img = video::load_png(dir / "deep.png");
    ASSERT_EQ(img.width, 16);
    ASSERT_EQ(img.height, 16);
    for (int y = 0; y < 16; ++y) {
        for (int x = 0; x < 16; ++x) {
            const std::uint8_t* p = pixel(img, x, y);
            EXPECT_EQ(p[0], x * 16);
            EXPECT_EQ(p[1], y * 16);
            EXPECT_EQ(p[2], 0xAB);
        }
    }
}

TEST(LoadPng, DecodesPaletteWithTransparency) {
    TempDir dir;
    const Bytes plte = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30};
    const Bytes trns = {255, 255, 255, 0};  // entry 3 is fully transparent
    std::vector<Bytes> rows;
    for (int y = 0; y < 16; ++y) {
        Bytes row;
        for (int x = 0; x < 16; ++x) row.push_back(static_cast<std::uint8_t>((x + y) % 4));
        rows.push_back(row);
    }
    write_bytes(dir / "pal.png", make_png(16, 16, 8, 3, rows, plte, trns));
    video::Image img = video::load_png(dir / "pal.png");
    ASSERT_EQ(img.width, 16);
    for (int y = 0; y < 16; ++y) {
        for (int x = 0; x < 16; ++x) {
            int idx = (x + y) % 4;
            const std::uint8_t* p = pixel(img, x, y);
            if (idx == 3) {
                EXPECT_EQ(p[0], 255);
                EXPECT_EQ(p[1], 255);
                EXPECT_EQ(p[2], 255);
            } else {
                EXPECT_EQ(p[0], plte[idx * 3]);
                EXPECT_EQ(p[1], plte[idx * 3 + 1]);
                EXPECT_EQ(p[2], plte[idx * 3 + 2]);
            }
        }
    }
}

TEST(LoadPng, DecodesGreyscale) {
    TempDir dir;
    std::vector<Bytes> rows(16, Bytes(16, 77));
    write_bytes(dir / "grey.png", make_png(16, 16, 8, 0, rows));
    video::Image img = video::load_png(dir / "grey.png");
    for (std::uint8_t v : img.rgb) ASSERT_EQ(v, 77);
}

TEST(LoadPng, CompositesAlphaOverWhite) {
    TempDir dir;
    // Column 0..5: transparent, 6..10: opaque, 11..15: half transparent; all pixels dark red.
    std::vector<Bytes> rows;
    for (int y = 0; y < 16; ++y) {
        Bytes row;
        for (int x = 0; x < 16; ++x) {
            std::uint8_t a = x < 6 ? 0 : (x < 11 ? 255 : 128);
            row.insert(row.end(), {100, 0, 0, a});
        }
        rows.push_back(row);
    }
    write_bytes(dir / "rgba.png", make_png(16, 16, 8, 6, rows));
    video::Image img = video::load_png(dir / "rgba.png");
    const std::uint8_t* clear = pixel(img, 2, 5);
    EXPECT_EQ(clear[0], 255);
    EXPECT_EQ(clear[1], 255);
    EXPECT_EQ(clear[2], 255);
    const std::uint8_t* opaque = pixel(img, 8, 5);
    EXPECT_EQ(opaque[0], 100);
    EXPECT_EQ(opaque[1], 0);
    EXPECT_EQ(opaque[2], 0);
    const std::uint8_t* half = pixel(img, 13, 5);
    EXPECT_NEAR(half[0], (100 * 128 + 255 * 127) / 255, 1);
    EXPECT_NEAR(half[1], 127, 1);
}

TEST(WritePng, RoundTripsExactly) {
    TempDir dir;
    video::Image img(33, 17);
    for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<std::uint8_t>(i * 7);
    video::write_png(dir / "rt.png", img);
    video::Image back = video::load_png(dir / "rt.png");
    EXPECT_EQ(back.width, 33);
    EXPECT_EQ(back.height, 17);
    EXPECT_EQ(back.rgb, img.rgb);
}

TEST(WritePng, MissingFolderIsIoErrorNamingTheFile) {
    TempDir dir;
    fs::path p = dir / "no/such/folder/out.png";
    try {
        video::write_png(p, video::Image(16, 16));
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Io);
        EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir / "no"));
}

TEST(Resize, SameSizeIsACopy) {
    video::Image img(20, 10);
    for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<std::uint8_t>(i);
    video::Image out = video::resize(img, 20, 10);
    EXPECT_EQ(out.width, 20);
    EXPECT_EQ(out.height, 10);
    EXPECT_EQ(out.rgb, img.rgb);
}

TEST(Resize, KeepsFlatColourAndSplitsHalves) {
    // Left half red, right half blue: after resizing the far columns keep their colour.
    video::Image img(64, 32);
    for (int y = 0; y < 32; ++y) {
        for (int x = 0; x < 64; ++x) {
            std::uint8_t* p = img.row(y) + x * 3;
            p[0] = x < 32 ? 200 : 0;
            p[2] = x < 32 ? 0 : 200;
        }
    }
    for (auto [w, h] : {std::pair{32, 16}, std::pair{128, 48}, std::pair{17, 9}}) {
        video::Image out = video::resize(img, w, h);
        ASSERT_EQ(out.width, w);
        ASSERT_EQ(out.height, h);
        ASSERT_EQ(out.rgb.size(), static_cast<size_t>(w) * h * 3);
        const std::uint8_t* left = pixel(out, 0, h / 2);
        const std::uint8_t* right = pixel(out, w - 1, h / 2);
        EXPECT_NEAR(left[0], 200, 2);
        EXPECT_NEAR(left[2], 0, 2);
        EXPECT_NEAR(right[0], 0, 2);
        EXPECT_NEAR(right[2], 200, 2);
    }
}

TEST(Resize, RejectsEmptyTarget) {
    EXPECT_THROW(video::resize(video::Image(16, 16), 0, 16), Error);
}
