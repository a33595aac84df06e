#pragma once

// Tensors out of safetensors files (one file, a sharded checkpoint, or a diffusers component
// folder) as at::Tensor, converted straight into the target device and dtype from the mapped file.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vmeval/weights/checkpoint.hpp"
#include "vmeval/weights/safetensors.hpp"

namespace vmeval::nn {

/// The ATen dtype of a safetensors dtype; throws Error(Config) for the 4- and 6-bit formats, which
/// have no ATen equivalent.
at::ScalarType to_scalar_type(weights::DType dtype, const std::string& context);

class CheckpointReader {
public:
    /// The files of one checkpoint (weights::select_weights gives them for a component folder).
    explicit CheckpointReader(const weights::WeightFiles& files);
    /// A component folder: `<dir>/diffusion_pytorch_model[.variant].safetensors`, `model...`, or
    /// their sharded index.
    static CheckpointReader open_component(const std::filesystem::path& dir, const std::string& variant = "");
    /// One safetensors file.
    static CheckpointReader open_file(const std::filesystem::path& file);

    bool contains(const std::string& name) const { return where_.count(name) != 0; }
    const weights::TensorInfo& info(const std::string& name) const;
    /// All tensor names, sorted.
    std::vector<std::string> names() const;
    /// The tensor, copied once from the mapping into `device` as `dtype` (the file's own dtype when
    /// nullopt). Floating tensors are converted; integer tensors keep their dtype.
    at::Tensor read(const std::string& name, at::Device device = at::kCPU,
                    std::optional<at::ScalarType> dtype = std::nullopt) const;
    /// Every tensor, on the CPU in its file dtype (goldens and small checkpoints).
    std::map<std::string, at::Tensor> read_all() const;
    /// Where the tensors come from, for error messages.
    std::string describe() const;

private:
    struct Located {
        const weights::SafetensorsFile* file;
        const weights::TensorInfo* info;
    };
    std::vector<std::unique_ptr<weights::SafetensorsFile>> files_;
    std::map<std::string, Located> where_;
    std::string origin_;
};

}  // namespace vmeval::nn
