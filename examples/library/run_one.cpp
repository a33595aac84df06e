// Using vmeval as a library, like the original's Python API:
//   InferenceRunner(output_dir).run(model, image_path, prompt)
// Build: it is part of the CMake project (target vmeval_example_library).
// Run:   ./build/vmeval_example_library examples/questions/maze_task/maze_0000/first_frame.png
#include <cstdio>

#include "vmeval/runs/inference_runner.hpp"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s IMAGE.png [PROMPT] [MODEL]\n", argv[0]);
        return 2;
    }
    const char* prompt = argc > 2 ? argv[2] : "Show what happens next.";
    const char* model = argc > 3 ? argv[3] : "baseline-still";

    vmeval::InferenceRunner runner("outputs");
    vmeval::RunOptions options;
    options.params.set("frames", "24");
    try {
        vmeval::RunResult r = runner.run(model, argv[1], prompt, options);
        if (!r.success) {
            std::fprintf(stderr, "failed: %s\n", r.error_message.c_str());
            return 1;
        }
        std::printf("%s\n%s frames, %.2fs\n", r.video_path.c_str(),
                    r.metadata["output"]["frames"].dump().c_str(), r.seconds);
        return 0;
    } catch (const vmeval::Error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    }
}
