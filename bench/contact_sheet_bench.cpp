// Cost of a contact sheet per run, split into its parts: decoding the picked frames, composing the
// sheet, encoding the PNG. Each case is a video written here with the project's writer.
// Usage: contact_sheet_bench [repeats=10] [frames shown=6]
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "vmeval/video/contact_sheet.hpp"
#include "vmeval/video/frame_reader.hpp"
#include "vmeval/video/mp4_writer.hpp"
#include "vmeval/video/png_encode.hpp"

namespace fs = std::filesystem;
namespace video = vmeval::video;
using Steady = std::chrono::steady_clock;

namespace {

double ms_since(Steady::time_point t0) {
    return std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
}

double cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Moving gradients with light grain: closer to generated footage than flat colour or pure noise.
video::Image frame(int w, int h, int index) {
    video::Image img(w, h);
    unsigned seed = 12345u + static_cast<unsigned>(index);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            seed = seed * 1103515245u + 12345u;
            std::uint8_t* p = img.row(y) + x * 3;
            p[0] = static_cast<std::uint8_t>((x + index * 4) * 255 / w);
            p[1] = static_cast<std::uint8_t>(y * 255 / h);
            p[2] = static_cast<std::uint8_t>(96 + ((seed >> 16) & 15));
        }
    }
    return img;
}

}  // namespace

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 10;
    const int shown =
        argc > 2 ? std::max(1, std::atoi(argv[2])) : video::kDefaultContactSheetFrames;
    const fs::path dir =
        fs::temp_directory_path() / ("contact_sheet_bench_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    struct Case {
        int w, h, frames;
    };
    std::printf("%-18s %9s %9s %9s %9s %9s %9s  (median ms of %d, %d frames shown)\n", "video",
                "decode", "compose", "png", "total", "cpu", "sheet", repeats, shown);
    for (Case c :
         {Case{64, 48, 16}, Case{256, 192, 16}, Case{1024, 576, 25}, Case{1280, 720, 121}}) {
        const fs::path mp4 = dir / "v.mp4";
        {
            video::Mp4Writer w(mp4, video::Mp4Options{8.0});
            for (int i = 0; i < c.frames; ++i) w.add(frame(c.w, c.h, i));
            w.finish();
        }
        const video::Image input = frame(c.w, c.h, 0);
        const video::Image goal = frame(c.w, c.h, c.frames);
        std::vector<double> decode, compose, png, total, cpu;
        char size[64] = "";
        for (int r = 0; r < repeats; ++r) {
            auto t0 = Steady::now();
            const double c0 = cpu_ms();
            video::ContactSheet s;
            s.input = &input;
            s.goal = &goal;
            s.frames = video::read_frames(mp4, video::pick_frames(c.frames, shown));
            s.labels.assign(s.frames.size(), "0.00s");
            s.title = "bench";
            decode.push_back(ms_since(t0));
            auto t1 = Steady::now();
            video::Image sheet = video::compose_contact_sheet(s);
            compose.push_back(ms_since(t1));
            auto t2 = Steady::now();
            video::write_png_fast(dir / "sheet.png", sheet, 1);
            png.push_back(ms_since(t2));
            std::snprintf(size, sizeof size, "%dx%d %juKB", sheet.width, sheet.height,
                          fs::file_size(dir / "sheet.png") / 1024);
            total.push_back(ms_since(t0));
            cpu.push_back(cpu_ms() - c0);
        }
        char name[32];
        std::snprintf(name, sizeof name, "%dx%d x%d", c.w, c.h, c.frames);
        std::printf("%-18s %9.1f %9.1f %9.1f %9.1f %9.1f %9s\n", name, median(decode),
                    median(compose), median(png), median(total), median(cpu), size);
    }
    fs::remove_all(dir);
    return 0;
}
