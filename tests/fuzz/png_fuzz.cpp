// PNG decoding and the question image checks, over arbitrary first_frame.png bytes.
// Only vmeval::Error may come out of them; anything else (another exception, a sanitizer report,
// a crash) is a finding.

#include "fuzz_support.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/questions/question.hpp"
#include "vmeval/video/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace vmeval;
    const auto root = fuzz::scratch_dir() / "png";
    const auto task = root / "maze_task" / "maze_0001";
    static const bool prompt_written = [&] {
        fuzz::write_file(task / "prompt.txt", "Move the dot to the goal.");
        return true;
    }();
    (void)prompt_written;
    fuzz::write_file(task / "first_frame.png", fuzz::as_text(data, size));

    try {
        video::PngHeader h = video::read_png_header(task / "first_frame.png");
        if (h.width < video::kMinImageSide || h.width > video::kMaxImageSide) std::abort();
        video::Image img = video::load_png(task / "first_frame.png");
        if (img.rgb.size() != static_cast<std::size_t>(img.width) * img.height * 3) std::abort();
    } catch (const Error&) {
    }
    questions::Question q;
    questions::Problem p;
    const bool ok = questions::check_question(root, "maze", task, /*decode_images=*/true, q, p);
    if (!ok && p.message.empty()) std::abort();  // a refusal must say why
    return 0;
}
