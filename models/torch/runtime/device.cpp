#include "models/torch/runtime/device.hpp"

#include <ATen/Context.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <torch/version.h>

#include <sys/resource.h>

#include <fstream>

#include "vmeval/core/error.hpp"

namespace vmeval::nn {

namespace {

int cuda_devices() { return at::hasCUDA() ? static_cast<int>(c10::cuda::device_count()) : 0; }

}  // namespace

Placement choose_placement(const std::string& device, const std::string& precision) {
    Placement p;
    if (device == "auto") {
        p.device = cuda_devices() > 0 ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
    } else if (device == "cpu") {
        p.device = at::kCPU;
    } else if (device == "cuda" || device.rfind("cuda:", 0) == 0) {
        int index = 0;
        if (device.size() > 5) {
            try {
                std::size_t used = 0;
                index = std::stoi(device.substr(5), &used);
                if (used != device.size() - 5 || index < 0) throw std::invalid_argument(device);
            } catch (const std::exception&) {
                throw Error(ErrorCode::Config, "--device " + device + ": expected auto, cpu, cuda or cuda:N");
            }
        }
        int n = cuda_devices();
        if (n == 0)
            throw Error(ErrorCode::Config, "--device " + device +
                                               ": this machine has no usable CUDA device (LibTorch sees none); use --device cpu");
        if (index >= n)
            throw Error(ErrorCode::Config, "--device " + device + ": only " + std::to_string(n) +
                                               " CUDA device(s) visible (CUDA_VISIBLE_DEVICES applies)");
        p.device = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    } else {
        throw Error(ErrorCode::Config, "--device " + device + ": expected auto, cpu, cuda or cuda:N");
    }
    bool gpu = p.device.is_cuda();
    if (precision == "auto") p.dtype = gpu ? at::kBFloat16 : at::kFloat;
    else if (precision == "fp32") p.dtype = at::kFloat;
    else if (precision == "bf16" || precision == "fp16") {
        if (!gpu)
            throw Error(ErrorCode::Config, "--precision " + precision +
                                               " needs a CUDA device; the CPU path runs fp32 (use --precision auto or fp32)");
        p.dtype = precision == "bf16" ? at::kBFloat16 : at::kHalf;
    } else {
        throw Error(ErrorCode::Config, "--precision " + precision + ": expected auto, bf16, fp16 or fp32");
    }
    return p;
}

std::string device_name(at::Device device) { return device.str(); }

std::string precision_name(at::ScalarType dtype) {
    switch (dtype) {
        case at::kBFloat16: return "bf16";
        case at::kHalf: return "fp16";
        case at::kFloat: return "fp32";
        default: return c10::toString(dtype);
    }
}

PeakMemory::PeakMemory(at::Device device) : device_(device) {
    if (device_.is_cuda()) {
        c10::cuda::CUDACachingAllocator::resetPeakStats(device_.index());
    } else {
        // "5" resets the peak RSS the kernel reports as VmHWM / ru_maxrss (Linux 4.0+). Where it
        // is refused the figure is the process's peak so far, still an upper bound.
        std::ofstream("/proc/self/clear_refs") << "5";
    }
}

std::uint64_t PeakMemory::bytes() const {
    if (device_.is_cuda()) {
        auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device_.index());
        using Stat = c10::CachingAllocator::StatType;
        return static_cast<std::uint64_t>(stats.reserved_bytes[static_cast<std::size_t>(Stat::AGGREGATE)].peak);
    }
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // kB
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
}

const char* PeakMemory::kind() const { return device_.is_cuda() ? "allocator_reserved" : "rss"; }

std::string runtime_description() {
    int n = cuda_devices();
    std::string text = std::string("LibTorch ") + TORCH_VERSION + ", ";
    text += n > 0 ? std::to_string(n) + " CUDA device(s)" : "no CUDA device (CPU, fp32)";
    return text;
}

}  // namespace vmeval::nn
