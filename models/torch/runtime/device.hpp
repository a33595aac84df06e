#pragma once

// Where a local model runs and in which precision, and how much memory it took.

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <string>

namespace vmeval::nn {

struct Placement {
    at::Device device = at::kCPU;
    at::ScalarType dtype = at::kFloat;  ///< compute dtype
};

/// Resolves the user's choice. `device`: "auto" (the first CUDA device when there is one, else the
/// CPU), "cpu", "cuda" or "cuda:N". `precision`: "auto" (bf16 on CUDA, fp32 on the CPU), "bf16",
/// "fp16" or "fp32". Throws Error(Config) for a CUDA device this machine does not have, and for
/// half precision on the CPU (slow and inexact there; the reference runs fp32 on CPU).
Placement choose_placement(const std::string& device, const std::string& precision);
/// "cuda:0", "cpu"; "bf16", "fp16", "fp32".
std::string device_name(at::Device device);
std::string precision_name(at::ScalarType dtype);

/// Peak memory of one generation: the CUDA caching allocator's peak on a GPU, the process's peak
/// resident set on the CPU.
class PeakMemory {
public:
    /// Starts a measurement: resets the device's peak counter (on the CPU the kernel's peak RSS,
    /// through /proc/self/clear_refs, where the kernel allows it).
    explicit PeakMemory(at::Device device);
    /// Peak bytes since construction.
    std::uint64_t bytes() const;
    /// "allocator" (CUDA) or "rss" (CPU): what bytes() measures.
    const char* kind() const;

private:
    at::Device device_;
};

/// One line for `vmeval doctor`: LibTorch's version, CUDA availability and device count.
std::string runtime_description();

}  // namespace vmeval::nn
