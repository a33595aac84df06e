#include "vmeval/video/probe.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/video/mp4_writer.hpp"

namespace {

using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::testkit::TempDir;
namespace video = vmeval::video;
namespace fs = std::filesystem;

void write_small_video(const fs::path& path, int frames) {
    video::Mp4Writer writer(path, video::Mp4Options{8.0});
    for (int i = 0; i < frames; ++i) {
        video::Image img(32, 32);
        for (size_t k = 0; k < img.rgb.size(); ++k)
            img.rgb[k] = static_cast<std::uint8_t>(k + i * 9);
        writer.add(img);
    }
    writer.finish();
}

void expect_probe_fails(const fs::path& path, const std::string& needle = "") {
    try {
        video::probe_video(path);
        FAIL() << "no error for " << path;
    } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_EQ(e.code(), ErrorCode::Video) << msg;
        EXPECT_EQ(msg.rfind(path.string(), 0), 0u) << msg;
        EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
}

}  // namespace

TEST(ProbeVideo, ReportsContainerAndFileSize) {
    TempDir dir;
    fs::path p = dir / "v.mp4";
    write_small_video(p, 5);
    video::VideoProbe probe = video::probe_video(p);
    EXPECT_NE(probe.container.find("mp4"), std::string::npos) << probe.container;
    EXPECT_EQ(probe.bytes, fs::file_size(p));
    EXPECT_EQ(probe.frames, 5);
    EXPECT_EQ(probe.width, 32);
    EXPECT_NEAR(probe.duration_s, 5 / 8.0, 1e-6);
}

TEST(ProbeVideo, TruncatedMp4Fails) {
    TempDir dir;
    fs::path full = dir / "full.mp4";
    write_small_video(full, 8);
    std::string bytes = vmeval::testkit::read_text(full);
    fs::path half = dir / "half.mp4";
    vmeval::testkit::write_text(half, bytes.substr(0, bytes.size() / 2));
    expect_probe_fails(half);
}

TEST(ProbeVideo, TextFileNamedMp4Fails) {
    TempDir dir;
    fs::path p = dir / "notes.mp4";
    vmeval::testkit::write_text(p, "this is not a video, just some text\nsecond line\n");
    expect_probe_fails(p);
}

TEST(ProbeVideo, MissingEmptyAndDirectoryFail) {
    TempDir dir;
    expect_probe_fails(dir / "missing.mp4", "does not exist");
    vmeval::testkit::write_text(dir / "empty.mp4", "");
    expect_probe_fails(dir / "empty.mp4", "empty");
    fs::create_directories(dir / "folder.mp4");
    expect_probe_fails(dir / "folder.mp4", "not a regular file");
}

TEST(ProbeVideo, PngOpensAsAOneFrameVideo) {
    // A PNG opens as a one-frame video; probing reports it rather than guessing intent.
    TempDir dir;
    vmeval::testkit::write_test_png(dir / "f.png", 32, 32);
    video::VideoProbe p = video::probe_video(dir / "f.png");
    EXPECT_EQ(p.codec, "png");
    EXPECT_EQ(p.frames, 1);
}
