// One denoising step of the Wan transformer (models/wan) at real size with random weights: two
// forwards (classifier-free guidance) of the A14B expert by default, 480p x 81 frames = 32,760 video
// tokens plus 512 text tokens. wan_step_bench.py runs diffusers' WanTransformer3DModel the same way
// on the same device and prints the ratio. Prints one JSON line: {"step_s": median, "steps": [...],
// "peak_memory_bytes": N, ...}.
//
// Usage: wan_step_bench [--device cuda|cpu] [--dtype bf16|fp16|fp32] [--runs 3] [--warmup 1]
//        [--layers 40] [--heads 40] [--head-dim 128] [--ffn 13824] [--in 36] [--out 16]
//        [--frames 21] [--height 60] [--width 104] [--context 512] [--threads N]
// --frames/--height/--width are latent sizes (480x832 pixels, 81 frames: 21 x 60 x 104).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "models/torch/runtime/device.hpp"
#include "models/torch/runtime/module.hpp"
#include "models/wan/transformer.hpp"

namespace {

struct Args {
    std::string device = "cuda";
    std::string dtype = "bf16";
    int runs = 3, warmup = 1, threads = 0;
    std::map<std::string, int64_t> size = {{"layers", 40}, {"heads", 40}, {"head-dim", 128}, {"ffn", 13824},
                                           {"in", 36},     {"out", 16},   {"frames", 21},     {"height", 60},
                                           {"width", 104}, {"context", 512}};
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        if (s.rfind("--", 0) != 0 || i + 1 >= argc) throw std::runtime_error("expected --option VALUE, got " + s);
        std::string key = s.substr(2), value = argv[++i];
        if (key == "device") a.device = value;
        else if (key == "dtype") a.dtype = value;
        else if (key == "runs") a.runs = std::stoi(value);
        else if (key == "warmup") a.warmup = std::stoi(value);
        else if (key == "threads") a.threads = std::stoi(value);
        else if (a.size.count(key)) a.size[key] = std::stoll(value);
        else throw std::runtime_error("unknown option " + s);
    }
    return a;
}

at::ScalarType dtype_of(const std::string& s) {
    if (s == "bf16") return at::kBFloat16;
    if (s == "fp16") return at::kHalf;
    if (s == "fp32") return at::kFloat;
    throw std::runtime_error("--dtype is bf16, fp16 or fp32");
}

}  // namespace

int main(int argc, char** argv) try {
    const Args a = parse(argc, argv);
    if (a.threads > 0) at::set_num_threads(a.threads);
    c10::InferenceMode guard;
    const at::Device device(a.device);
    const auto dtype = dtype_of(a.dtype);
    vmeval::wan::TransformerConfig config;
    config.num_layers = a.size.at("layers");
    config.num_attention_heads = a.size.at("heads");
    config.attention_head_dim = a.size.at("head-dim");
    config.ffn_dim = a.size.at("ffn");
    config.in_channels = a.size.at("in");
    config.out_channels = a.size.at("out");
    vmeval::wan::Transformer model(config);
    auto start = std::chrono::steady_clock::now();
    vmeval::nn::init_random(model, 1, 0.02, device, dtype);
    const double init_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    const auto options = at::TensorOptions().device(device).dtype(dtype);
    auto gen_x = at::randn({1, config.in_channels, a.size.at("frames"), a.size.at("height"), a.size.at("width")},
                           options);
    auto context = at::randn({1, a.size.at("context"), config.text_dim}, options) * 0.1;
    auto uncond = at::randn({1, a.size.at("context"), config.text_dim}, options) * 0.1;
    auto timestep = at::full({1}, 900.0, at::TensorOptions().device(device).dtype(at::kFloat));

    vmeval::nn::PeakMemory peak(device);
    auto step = [&] {
        auto t0 = std::chrono::steady_clock::now();
        auto cond = model.forward(gen_x, timestep, context);
        auto un = model.forward(gen_x, timestep, uncond);
        // .item() waits for the device, so the time covers the kernels, not just their launch.
        (void)(un + 5.0 * (cond - un)).abs().max().item<float>();
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    for (int i = 0; i < a.warmup; ++i) step();
    std::vector<double> steps;
    for (int i = 0; i < a.runs; ++i) steps.push_back(step());
    auto sorted = steps;
    std::sort(sorted.begin(), sorted.end());
    const int64_t tokens = a.size.at("frames") * (a.size.at("height") / 2) * (a.size.at("width") / 2);
    nlohmann::json out = {{"step_s", sorted[sorted.size() / 2]},
                          {"steps", steps},
                          {"init_s", init_s},
                          {"tokens", tokens},
                          {"parameters_bytes", model.bytes()},
                          {"peak_memory_bytes", peak.bytes()},
                          {"peak_memory_kind", peak.kind()},
                          {"device", vmeval::nn::device_name(device)},
                          {"dtype", a.dtype}};
    std::cout << out.dump() << std::endl;
    return 0;
} catch (const std::exception& e) {
    std::cerr << "wan_step_bench: " << e.what() << "\n";
    return 1;
}
