// metadata.json as resume reads it: read_metadata and latest_run over arbitrary file contents.
// A corrupt metadata.json must make the run "not done" (retried), never stop the batch.

#include "fuzz_support.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/runs/layout.hpp"
#include "vmeval/runs/metadata.hpp"
#include "vmeval/runs/resume.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace vmeval;
    const std::string model = "baseline-still";
    const std::string task_id = "maze_0001";
    const auto task = fuzz::scratch_dir() / "meta" / model / "maze_task" / task_id;
    const auto run = task / runs::make_run_id(model, task_id, "20260101_120000", 1);
    fuzz::write_file(run / runs::kMetadataFile, fuzz::as_text(data, size));

    runs::read_metadata(run);
    std::optional<runs::PastRun> past = runs::latest_run(task, model, task_id);
    if (!past) std::abort();  // the run folder is there
    // There is no video: whatever the metadata claims, the run cannot count as done.
    if (past->success || past->why.empty()) std::abort();
    return 0;
}
