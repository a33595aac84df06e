// Writes run folders the CLI cannot easily produce (a failed generation, a run made through the
// library API) so that validate_outputs.py checks them against docs/metadata.schema.json too.
#include <cstdio>
#include <filesystem>

#include "support/testkit.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/runs/batch_runner.hpp"
#include "vmeval/runs/inference_runner.hpp"

namespace {

class FailingModel final : public vmeval::ModelWrapper {
public:
    vmeval::GenerationResult generate(const vmeval::GenerationRequest&) override {
        throw vmeval::Error(vmeval::ErrorCode::Generation, "the provider rejected the job (test)");
    }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
        return 2;
    }
    namespace fs = std::filesystem;
    fs::path out = argv[1];
    fs::remove_all(out);
    fs::path questions = out / "questions";
    vmeval::testkit::make_question(questions, "maze", "maze_0000", true);
    vmeval::testkit::make_question(questions, "maze", "maze_0001", false);

    static const vmeval::registry::ModelInfo kFailing{
        "test-failing", "Tests", vmeval::registry::Kind::Api, vmeval::registry::Backend::Baseline,
        "test/failing-1", "always fails", "", "", {}, ""};
    vmeval::InferenceRunner runner(out / "runs");
    runner.use_wrapper(kFailing.name, std::make_unique<FailingModel>());

    vmeval::BatchOptions b;
    b.questions_dir = questions;
    b.output_dir = out / "runs";
    b.models = {&kFailing, vmeval::registry::find_model("baseline-crossfade")};
    b.runner = &runner;
    b.quiet = true;
    auto report = vmeval::run_batch(b);

    vmeval::RunOptions o;
    o.task_id = "library_call";
    o.final_frame = questions / "maze_task" / "maze_0000" / "final_frame.png";
    auto r = runner.run("baseline-crossfade", questions / "maze_task" / "maze_0000" / "first_frame.png",
                        "Fade to the goal.", o);
    std::printf("batch exit %d, library run %s\n", report.exit_code, r.success ? "ok" : "failed");
    return report.exit_code == 1 && r.success ? 0 : 1;
}
