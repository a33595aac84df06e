#include "vmeval/video/mp4_writer.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/video/probe.hpp"

namespace {

using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::testkit::TempDir;
namespace video = vmeval::video;
namespace fs = std::filesystem;

// A moving square on a gradient, so consecutive frames differ like real video.
video::Image make_frame(int w, int h, int index) {
    video::Image img(w, h);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            std::uint8_t* p = img.row(y) + x * 3;
            bool square = x >= index * 2 && x < index * 2 + 8 && y >= h / 3 && y < h / 3 + 8;
            p[0] = static_cast<std::uint8_t>(x * 255 / w);
            p[1] = static_cast<std::uint8_t>(y * 255 / h);
            p[2] = square ? 255 : 30;
        }
    }
    return img;
}

void write_video(const fs::path& path, int w, int h, int frames, double fps) {
    video::Mp4Writer writer(path, video::Mp4Options{fps});
    for (int i = 0; i < frames; ++i) writer.add(make_frame(w, h, i));
    EXPECT_EQ(writer.frames(), frames);
    writer.finish();
}

void expect_video_error(const std::function<void()>& call, const std::string& needle) {
    try {
        call();
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Video) << e.what();
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

}  // namespace

TEST(Mp4Writer, WritesExactFrameCountAndRate) {
    TempDir dir;
    fs::path out = dir / "out.mp4";
    write_video(out, 64, 48, 16, 8.0);
    video::VideoProbe p = video::probe_video(out);
    EXPECT_EQ(p.codec, "h264");
    EXPECT_EQ(p.pixel_format, "yuv420p");
    EXPECT_EQ(p.width, 64);
    EXPECT_EQ(p.height, 48);
    EXPECT_EQ(p.frames, 16);
    EXPECT_NEAR(p.fps, 8.0, 1e-6);
    EXPECT_NEAR(p.duration_s, 2.0, 1e-6);
}

TEST(Mp4Writer, PadsOddSizesToEven) {
    TempDir dir;
    fs::path out = dir / "odd.mp4";
    write_video(out, 63, 47, 4, 8.0);
    video::VideoProbe p = video::probe_video(out);
    EXPECT_EQ(p.width, 64);
    EXPECT_EQ(p.height, 48);
    EXPECT_EQ(p.frames, 4);
}

TEST(Mp4Writer, KeepsFractionalFrameRates) {
    TempDir dir;
    write_video(dir / "ntsc.mp4", 32, 32, 6, 30000.0 / 1001.0);
    video::VideoProbe ntsc = video::probe_video(dir / "ntsc.mp4");
    EXPECT_NEAR(ntsc.fps, 30000.0 / 1001.0, 1e-6);
    EXPECT_EQ(ntsc.frames, 6);
    EXPECT_NEAR(ntsc.duration_s, 6 * 1001.0 / 30000.0, 1e-6);

    write_video(dir / "decimal.mp4", 32, 32, 6, 29.97);
    EXPECT_NEAR(video::probe_video(dir / "decimal.mp4").fps, 29.97, 1e-6);
}

TEST(Mp4Writer, FrameSizeChangeThrowsAndWriterStaysUsable) {
    TempDir dir;
    fs::path out = dir / "change.mp4";
    video::Mp4Writer writer(out, {});
    writer.add(make_frame(64, 48, 0));
    expect_video_error([&] { writer.add(make_frame(32, 48, 1)); }, "32x48 but the first was 64x48");
    writer.add(make_frame(64, 48, 2));
    writer.finish();
    EXPECT_EQ(video::probe_video(out).frames, 2);
}

TEST(Mp4Writer, ZeroFramesThrowsAndCreatesNoFile) {
    TempDir dir;
    fs::path out = dir / "empty.mp4";
    video::Mp4Writer writer(out, {});
    expect_video_error([&] { writer.finish(); }, "no frames");
    expect_video_error([&] { writer.finish(); }, out.string());
    EXPECT_FALSE(fs::exists(out));
}

TEST(Mp4Writer, RejectsBadFrameRate) {
    TempDir dir;
    expect_video_error([&] { video::Mp4Writer w(dir / "a.mp4", video::Mp4Options{0.0}); },
                       "frame rate");
}

TEST(Mp4Writer, UnwritablePathNamesTheFile) {
    TempDir dir;
    fs::path out = dir / "missing-folder" / "x.mp4";
    video::Mp4Writer writer(out, {});
    expect_video_error([&] { writer.add(make_frame(32, 32, 0)); }, out.string());
}

TEST(Mp4Writer, UnfinishedWriterLeavesAnUnplayableFileWithoutThrowing) {
    TempDir dir;
    fs::path out = dir / "partial.mp4";
    {
        video::Mp4Writer writer(out, {});
        for (int i = 0; i < 3; ++i) writer.add(make_frame(32, 32, i));
    }
    EXPECT_TRUE(fs::exists(out));
    EXPECT_THROW(video::probe_video(out), Error);
}
