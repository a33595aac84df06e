// `vmeval generate --model svd` over one question with the tiny golden pipeline as its weights,
// on the CPU: the MP4's frames must be diffusers' frames for the same seed (H.264 is lossy, so the
// comparison is in 8-bit levels with a stated tolerance) and the run's metadata must carry the
// parameters, phases and resources.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/testkit.hpp"
#include "torch/support/golden.hpp"
#include "torch/support/video_check.hpp"
#include "vmeval/video/frame_reader.hpp"
#include "vmeval/video/image.hpp"
#include "vmeval/video/mp4_writer.hpp"

namespace {

namespace fs = std::filesystem;
using vmeval::testing::golden_dir;
using vmeval::testing::load_json;
using vmeval::testing::load_tensors;
using vmeval::testkit::find_file;

TEST(SvdE2E, GenerateWritesDiffusersFramesForTheSeed) {
    auto dir = golden_dir("svd");
    auto run = load_json(dir / "run.json");
    vmeval::testkit::TempDir tmp;
    auto questions = tmp.path() / "questions";
    auto question = vmeval::testkit::make_question(questions, "maze", "maze_0000", false,
                                                   run["width"], run["height"]);
    fs::copy_file(dir / "image.png", question / "first_frame.png",
                  fs::copy_options::overwrite_existing);
    auto out = tmp.path() / "out";
    auto p = [](const std::string& k, const nlohmann::json& v) {
        return std::vector<std::string>{
            "--param", k + "=" + (v.is_string() ? v.get<std::string>() : v.dump())};
    };
    std::vector<std::string> args{"generate",
                                  "--questions-dir",
                                  questions.string(),
                                  "--output-dir",
                                  out.string(),
                                  "--model",
                                  "svd",
                                  "--device",
                                  "cpu",
                                  "--precision",
                                  "fp32",
                                  "--seed",
                                  std::to_string(run["seed"].get<uint64_t>()),
                                  "--no-contact-sheet"};
    for (const auto& [key, name] : std::vector<std::pair<std::string, std::string>>{
             {"width", "width"},
             {"height", "height"},
             {"frames", "frames"},
             {"steps", "steps"},
             {"fps", "fps"},
             {"motion_bucket_id", "motion_bucket_id"},
             {"noise_aug_strength", "noise_aug_strength"},
             {"min_guidance", "min_guidance"},
             {"max_guidance", "max_guidance"},
             {"decode_chunk_size", "decode_chunk_size"}}) {
        auto extra = p(name, run[key]);
        args.insert(args.end(), extra.begin(), extra.end());
    }
    auto weights = p("weights", (dir / "pipeline").string());
    args.insert(args.end(), weights.begin(), weights.end());
    auto r = vmeval::testkit::run_vmeval(args);
    ASSERT_EQ(r.exit_code, 0) << r.out << "\n" << r.err;

    auto video = find_file(out, "generated_video.mp4");
    ASSERT_FALSE(video.empty()) << "no generated_video.mp4 under " << out;
    vmeval::testing::expect_video_matches_frames(
        video, load_tensors(dir / "pipeline_seeded.safetensors")["frames_u8"],
        load_json(dir / "run.json")["fps"].get<double>(), tmp.path());

    auto metadata_path = find_file(out, "metadata.json");
    ASSERT_FALSE(metadata_path.empty());
    auto metadata = nlohmann::json::parse(std::ifstream(metadata_path));
    auto text = metadata.dump();
    EXPECT_NE(text.find("\"motion_bucket_id\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"peak_memory_bytes\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"denoise\""), std::string::npos) << text;
}

TEST(SvdE2E, UnknownParamIsRejected) {
    auto dir = golden_dir("svd");
    vmeval::testkit::TempDir tmp;
    auto questions = tmp.path() / "questions";
    vmeval::testkit::make_question(questions, "maze", "maze_0000", false, 48, 32);
    auto r = vmeval::testkit::run_vmeval(
        {"generate", "--questions-dir", questions.string(), "--output-dir",
         (tmp.path() / "out").string(), "--model", "svd", "--device", "cpu", "--param",
         "weights=" + (dir / "pipeline").string(), "--param", "motion_bucket=3"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE((r.out + r.err).find("motion_bucket"), std::string::npos) << r.out << r.err;
}

}  // namespace
