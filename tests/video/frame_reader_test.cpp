#include "vmeval/video/frame_reader.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <string>

#include "support/testkit.hpp"
#include "video/fixtures.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/video/probe.hpp"

namespace {

using vmeval::Error;
using vmeval::ErrorCode;
using vmeval::testkit::moving_square;
using vmeval::testkit::solid;
using vmeval::testkit::TempDir;
using vmeval::testkit::write_video;
using vmeval::testkit::zero_media_data;
namespace video = vmeval::video;
namespace fs = std::filesystem;

double mean_abs_diff(const video::Image& a, const video::Image& b) {
    EXPECT_EQ(a.width, b.width);
    EXPECT_EQ(a.height, b.height);
    if (a.rgb.size() != b.rgb.size() || a.rgb.empty()) return 1e9;
    double sum = 0;
    for (size_t i = 0; i < a.rgb.size(); ++i) sum += std::abs(int{a.rgb[i]} - int{b.rgb[i]});
    return sum / static_cast<double>(a.rgb.size());
}

void expect_read_fails(const fs::path& path, const std::vector<int>& indices,
                       const std::string& needle) {
    try {
        video::read_frames(path, indices);
        FAIL() << "no error for " << path;
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_EQ(e.code(), ErrorCode::Video) << msg;
        EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
        EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
}

}  // namespace

TEST(ReadFrames, FramesMatchWhatTheWriterWroteInTheOrderAsked) {
    TempDir dir;
    std::vector<video::Image> written;
    for (int i = 0; i < 10; ++i) written.push_back(moving_square(64, 48, i));
    write_video(dir / "v.mp4", written);

    const std::vector<int> asked = {9, 0, 4, 4};
    auto frames = video::read_frames(dir / "v.mp4", asked);
    ASSERT_EQ(frames.size(), asked.size());
    for (size_t i = 0; i < asked.size(); ++i) {
        const double same = mean_abs_diff(frames[i], written[asked[i]]);
        EXPECT_LT(same, 3.0) << "frame " << asked[i];
        // Frames differ only in the square's position: the closest written frame must be this one.
        for (int other = 0; other < 10; ++other) {
            if (other == asked[i]) continue;
            EXPECT_LT(same, mean_abs_diff(frames[i], written[other]))
                << asked[i] << " vs " << other;
        }
    }
}

TEST(ReadFrames, SolidColoursSurviveTheRoundTrip) {
    TempDir dir;
    const std::vector<std::array<std::uint8_t, 3>> colours = {
        {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {128, 128, 128}, {255, 255, 255}, {0, 0, 0}};
    std::vector<video::Image> written;
    for (const auto& c : colours) written.push_back(solid(32, 32, c));
    write_video(dir / "solid.mp4", written);

    auto frames = video::read_frames(dir / "solid.mp4", {0, 1, 2, 3, 4, 5});
    ASSERT_EQ(frames.size(), colours.size());
    for (size_t i = 0; i < colours.size(); ++i) {
        const std::uint8_t* centre = frames[i].row(16) + 16 * 3;
        for (int c = 0; c < 3; ++c) {
            EXPECT_NEAR(centre[c], colours[i][c], 6) << "colour " << i << " channel " << c;
        }
    }
}

TEST(ReadFrames, OddSizedVideoReadsBackAtItsEncodedEvenSize) {
    TempDir dir;
    write_video(dir / "odd.mp4", {moving_square(33, 25, 0), moving_square(33, 25, 1)});
    auto frames = video::read_frames(dir / "odd.mp4", {1});
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].width, 34);
    EXPECT_EQ(frames[0].height, 26);
}

TEST(ReadFrames, IndexPastTheEndNamesTheFrameCount) {
    TempDir dir;
    write_video(dir / "v.mp4", {solid(16, 16, {1, 2, 3}), solid(16, 16, {4, 5, 6})});
    expect_read_fails(dir / "v.mp4", {0, 2}, "only 2 decodable frame(s) and frame 2 was asked for");
    expect_read_fails(dir / "v.mp4", {-1}, "negative");
    EXPECT_TRUE(video::read_frames(dir / "v.mp4", {}).empty());
}

TEST(ReadFrames, MissingAndNonVideoFilesFailWithVideoCode) {
    TempDir dir;
    expect_read_fails(dir / "absent.mp4", {0}, "cannot open");
    vmeval::testkit::write_text(dir / "text.mp4", "not a video at all");
    expect_read_fails(dir / "text.mp4", {0}, "cannot");
}

TEST(ReadFrames, UndecodableMediaDataFailsAlthoughTheFileProbes) {
    TempDir dir;
    std::vector<video::Image> written;
    for (int i = 0; i < 4; ++i) written.push_back(moving_square(32, 32, i));
    write_video(dir / "v.mp4", written);
    zero_media_data(dir / "v.mp4");
    EXPECT_EQ(video::probe_video(dir / "v.mp4").frames, 4) << "the index must still be readable";
    expect_read_fails(dir / "v.mp4", {3}, "decodable frame(s)");
}
