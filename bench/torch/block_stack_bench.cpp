// The C++ half of block_stack_bench.py: loads the stack the Python script saved (weights,
// inputs, its output), builds the same blocks from models/torch/blocks, checks the output
// matches Python's, then times one forward. Prints JSON lines on stdout.
//
// Usage: block_stack_bench DIR [--threads N] [--runs N] [--warmup N] [--serve]
// --serve: after the check, times one forward per "run" line read on stdin and answers each with
// {"s": seconds}, so the Python driver can alternate its runs with ours and both see the same
// machine load; otherwise times --runs forwards and prints their median.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "models/torch/blocks/dit_block.hpp"
#include "models/torch/blocks/rope.hpp"
#include "models/torch/runtime/checkpoint_reader.hpp"
#include "models/torch/runtime/load.hpp"

namespace {

using vmeval::nn::DiTBlock;
using vmeval::nn::DiTBlockOptions;

struct Args {
    std::string dir;
    int threads = 2;
    int runs = 5;
    int warmup = 1;
    bool serve = false;
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        auto next = [&]() -> int {
            if (i + 1 >= argc) throw std::runtime_error(s + " needs a value");
            return std::stoi(argv[++i]);
        };
        if (s == "--threads") a.threads = next();
        else if (s == "--runs") a.runs = next();
        else if (s == "--warmup") a.warmup = next();
        else if (s == "--serve") a.serve = true;
        else if (a.dir.empty()) a.dir = s;
        else throw std::runtime_error("unexpected argument " + s);
    }
    if (a.dir.empty()) throw std::runtime_error("usage: block_stack_bench DIR [--threads N] [--runs N] [--warmup N]");
    return a;
}

/// The stack as the Python script names it: "blocks.<i>.<WanTransformerBlock key>".
class Stack : public vmeval::nn::Module {
public:
    Stack(int layers, const DiTBlockOptions& o) : blocks_(child<vmeval::nn::ModuleList<DiTBlock>>("blocks")) {
        for (int i = 0; i < layers; ++i) blocks_.push_back(o);
    }
    at::Tensor forward(const at::Tensor& x, const at::Tensor& context, const at::Tensor& temb,
                       const vmeval::nn::RotaryTables& rope) const {
        auto h = x;
        for (const auto* b : blocks_) h = b->forward(h, context, temb, rope);
        return h;
    }

private:
    vmeval::nn::ModuleList<DiTBlock>& blocks_;
};

int run(const Args& args) {
    at::set_num_threads(args.threads);
    c10::InferenceMode guard;
    nlohmann::json cfg;
    std::ifstream(args.dir + "/config.json") >> cfg;
    DiTBlockOptions o;
    o.dim = cfg["dim"];
    o.ffn_dim = cfg["ffn_dim"];
    o.heads = cfg["heads"];
    o.eps = cfg["eps"];
    o.cross_attn_norm = true;
    Stack stack(cfg["layers"], o);
    vmeval::nn::load_weights(stack, vmeval::nn::CheckpointReader::open_file(args.dir + "/weights.safetensors"));
    auto inputs = vmeval::nn::CheckpointReader::open_file(args.dir + "/inputs.safetensors").read_all();

    vmeval::nn::WanRotaryEmbedding rope_embed(o.dim / o.heads, {1, 2, 2}, 1024);
    auto rope = rope_embed.for_grid(cfg["frames"], cfg["height"].get<int64_t>() / 2, cfg["width"].get<int64_t>() / 2);
    auto forward = [&] { return stack.forward(inputs["x"], inputs["context"], inputs["temb"], rope); };

    // Same maths as diffusers up to summation order across threads: the fp32 stack agrees to ~1e-5.
    auto out = forward().to(at::kDouble);
    auto ref = inputs["reference"].to(at::kDouble);
    const double max_abs = (out - ref).abs().max().item<double>();
    const double cosine = (out * ref).sum().item<double>() / (out.norm() * ref.norm()).item<double>();
    const bool ok = ((out - ref).abs() <= 1e-4 + 1e-4 * ref.abs()).all().item<bool>();
    std::cerr << "block_stack_bench: output vs Python max_abs " << max_abs << " cosine " << cosine << "\n";
    if (!ok) {
        std::cerr << "block_stack_bench: outputs differ beyond 1e-4 abs + 1e-4 rel; not timing\n";
        return 1;
    }

    auto timed = [&] {
        auto start = std::chrono::steady_clock::now();
        forward();
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    for (int i = 0; i < args.warmup; ++i) forward();
    nlohmann::json check{{"max_abs", max_abs}, {"cosine", cosine}};
    if (args.serve) {
        std::cout << check.dump() << std::endl;
        for (std::string line; std::getline(std::cin, line);)
            if (line == "run") std::cout << nlohmann::json{{"s", timed()}}.dump() << std::endl;
        return 0;
    }
    std::vector<double> times;
    for (int i = 0; i < args.runs; ++i) times.push_back(timed());
    std::sort(times.begin(), times.end());
    const double median = times.size() % 2 ? times[times.size() / 2]
                                           : 0.5 * (times[times.size() / 2 - 1] + times[times.size() / 2]);
    nlohmann::json result{{"median_s", median}, {"max_abs", max_abs}, {"cosine", cosine},
                          {"threads", args.threads}, {"runs", args.runs}};
    std::cout << result.dump() << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse(argc, argv));
    } catch (const std::exception& e) {
        std::cerr << "block_stack_bench: " << e.what() << "\n";
        return 2;
    }
}
