// `vmeval generate` with the Wan presets over one question each, on the CPU, with the tiny golden
// pipelines as weights (tests/reference/goldens/wan_e2e.py): the MP4's frames must be diffusers'
// frames for the same seed after the same sizing (area budget, PIL bicubic), prompt cleaning and
// default negative prompt. H.264 is lossy, so the comparison is in 8-bit levels with a stated
// tolerance (torch/support/video_check.hpp).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/testkit.hpp"
#include "torch/support/golden.hpp"
#include "torch/support/video_check.hpp"

namespace {

namespace fs = std::filesystem;
using vmeval::testing::golden_dir;
using vmeval::testing::load_json;
using vmeval::testing::load_tensors;
using vmeval::testkit::find_file;

struct Case {
    std::string golden;  ///< e2e_<name> in the wan_e2e goldens
    std::string model;
    std::string pipeline;
    bool morphic = false;
};

std::vector<std::string> generate_args(const Case& c, const fs::path& questions, const fs::path& out,
                                       const nlohmann::json& run) {
    const auto dir = golden_dir("wan_e2e");
    std::vector<std::string> args{"generate", "--questions-dir", questions.string(), "--output-dir",
                                  out.string(), "--model", c.model, "--device", "cpu", "--precision", "fp32",
                                  "--seed", std::to_string(run["seed"].get<uint64_t>()), "--no-contact-sheet"};
    auto param = [&](const std::string& key, const std::string& value) {
        args.push_back("--param");
        args.push_back(key + "=" + value);
    };
    for (const auto* key : {"width", "height", "frames", "steps", "guidance", "guidance_2", "fps"})
        if (run.contains(key)) param(key, run[key].dump());
    param("weights", (dir / c.pipeline).string());
    if (c.morphic) param("lora", (dir / "morphic_lora.safetensors").string());
    return args;
}

fs::path question_for(const Case& c, const fs::path& root, bool with_final) {
    const auto dir = golden_dir("wan_e2e");
    auto run = load_json(dir / (c.golden + ".json"));
    auto question = vmeval::testkit::make_question(root, "maze", "maze_0000", with_final, 50, 30);
    fs::copy_file(dir / (c.golden + "_first.png"), question / "first_frame.png", fs::copy_options::overwrite_existing);
    if (with_final && c.morphic)
        fs::copy_file(dir / (c.golden + "_final.png"), question / "final_frame.png",
                      fs::copy_options::overwrite_existing);
    std::ofstream(question / "prompt.txt") << run["prompt"].get<std::string>();
    return question;
}

void check_case(const Case& c) {
    const auto dir = golden_dir("wan_e2e");
    auto run = load_json(dir / (c.golden + ".json"));
    vmeval::testkit::TempDir tmp;
    auto questions = tmp.path() / "questions";
    question_for(c, questions, c.morphic);
    auto out = tmp.path() / "out";
    auto r = vmeval::testkit::run_vmeval(generate_args(c, questions, out, run));
    ASSERT_EQ(r.exit_code, 0) << r.out << "\n" << r.err;

    auto video = find_file(out, "generated_video.mp4");
    ASSERT_FALSE(video.empty()) << "no generated_video.mp4 under " << out;
    auto golden = load_tensors(dir / (c.golden + ".safetensors"));
    vmeval::testing::expect_video_matches_frames(video, golden["frames_u8"], run["fps"].get<double>(), tmp.path(),
                                                 /*raw_bound=*/64.0);

    auto metadata = nlohmann::json::parse(std::ifstream(find_file(out, "metadata.json")));
    const auto text = metadata.dump();
    for (const auto* key : {"\"negative_prompt\"", "\"area_budget\"", "\"peak_memory_bytes\"", "\"denoise\""})
        EXPECT_NE(text.find(key), std::string::npos) << key << " not in " << text;
    EXPECT_NE(text.find("\"width\":" + run["out_width"].dump()), std::string::npos) << text;
    EXPECT_NE(text.find("\"height\":" + run["out_height"].dump()), std::string::npos) << text;
    if (c.morphic) {
        EXPECT_NE(text.find("\"lora\""), std::string::npos) << text;
    }
}

TEST(WanE2E, Wan21I2VMatchesDiffusers) { check_case({"e2e_i2v", "wan-2.1-i2v-480p", "pipeline_i2v"}); }

TEST(WanE2E, Wan22A14BMatchesDiffusers) { check_case({"e2e_a14b", "wan-2.2-i2v-a14b", "pipeline_a14b"}); }

TEST(WanE2E, Wan22TI2VMatchesDiffusers) { check_case({"e2e_ti2v", "wan-2.2-ti2v-5b", "pipeline_ti2v"}); }

TEST(WanE2E, MorphicMatchesDiffusers) {
    check_case({"e2e_morphic", "morphic-frames-to-video", "pipeline_a14b", true});
}

/// Runs `c` on one question and expects it refused with `needle` in the output and no video.
void expect_refused(const Case& c, const nlohmann::json& run, bool with_final, const std::string& needle) {
    vmeval::testkit::TempDir tmp;
    auto questions = tmp.path() / "questions";
    question_for(c, questions, with_final);
    auto r = vmeval::testkit::run_vmeval(generate_args(c, questions, tmp.path() / "out", run));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE((r.out + r.err).find(needle), std::string::npos) << r.out << r.err;
    EXPECT_TRUE(find_file(tmp.path() / "out", "generated_video.mp4").empty());
}

nlohmann::json run_of(const Case& c) { return load_json(golden_dir("wan_e2e") / (c.golden + ".json")); }

TEST(WanE2E, MorphicWithoutFinalFrameFailsThatQuestionClearly) {
    const Case c{"e2e_morphic", "morphic-frames-to-video", "pipeline_a14b", true};
    expect_refused(c, run_of(c), false, "final_frame.png");
}

TEST(WanE2E, WrongPipelineFolderForThePresetIsNamed) {
    // wan-2.1 needs the CLIP image encoder; the A14B folder has none.
    const Case c{"e2e_i2v", "wan-2.1-i2v-480p", "pipeline_a14b"};
    expect_refused(c, run_of(c), false, "image_encoder");
}

TEST(WanE2E, GuidanceTwoIsOnlyForTwoExperts) {
    const Case c{"e2e_ti2v", "wan-2.2-ti2v-5b", "pipeline_ti2v"};
    auto run = run_of(c);
    run["guidance_2"] = 2.0;
    expect_refused(c, run, false, "guidance_2");
}

}  // namespace
