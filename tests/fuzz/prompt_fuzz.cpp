// Reading prompt.txt through the question check: size limits, UTF-8 and NUL checks, trimming.

#include <cctype>

#include "fuzz_support.hpp"
#include "vmeval/questions/question.hpp"
#include "vmeval/video/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace vmeval;
    const auto root = fuzz::scratch_dir() / "prompt";
    const auto task = root / "maze_task" / "maze_0001";
    static const bool image_written = [&] {
        std::filesystem::create_directories(task);
        video::write_png(task / "first_frame.png", video::Image(32, 24));
        return true;
    }();
    (void)image_written;
    fuzz::write_file(task / "prompt.txt", fuzz::as_text(data, size));

    questions::Question q;
    questions::Problem p;
    if (questions::check_question(root, "maze", task, /*decode_images=*/false, q, p)) {
        // An accepted prompt is trimmed, non-empty text without NUL bytes.
        if (q.prompt.empty() || q.prompt.find('\0') != std::string::npos) std::abort();
        if (std::isspace(static_cast<unsigned char>(q.prompt.front())) ||
            std::isspace(static_cast<unsigned char>(q.prompt.back()))) {
            std::abort();
        }
    } else if (p.message.empty()) {
        std::abort();
    }
    return 0;
}
