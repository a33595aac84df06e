#include "models/torch/runtime/checkpoint_reader.hpp"

#include <ATen/ATen.h>

#include "vmeval/core/error.hpp"

namespace vmeval::nn {

at::ScalarType to_scalar_type(weights::DType dtype, const std::string& context) {
    using weights::DType;
    switch (dtype) {
        case DType::BOOL: return at::kBool;
        case DType::U8: return at::kByte;
        case DType::I8: return at::kChar;
        case DType::I16: return at::kShort;
        case DType::U16: return at::kUInt16;
        case DType::I32: return at::kInt;
        case DType::U32: return at::kUInt32;
        case DType::I64: return at::kLong;
        case DType::U64: return at::kUInt64;
        case DType::F16: return at::kHalf;
        case DType::BF16: return at::kBFloat16;
        case DType::F32: return at::kFloat;
        case DType::F64: return at::kDouble;
        case DType::C64: return at::kComplexFloat;
        case DType::F8_E4M3: return at::kFloat8_e4m3fn;
        case DType::F8_E5M2: return at::kFloat8_e5m2;
        case DType::F8_E8M0: return at::kFloat8_e8m0fnu;
        case DType::F4:
        case DType::F6_E2M3:
        case DType::F6_E3M2: break;
    }
    throw Error(ErrorCode::Config, context + ": dtype " + weights::to_string(dtype) +
                                       " has no LibTorch equivalent; use a checkpoint stored as F32, F16, BF16 or F8");
}

CheckpointReader::CheckpointReader(const weights::WeightFiles& files) {
    for (const auto& path : files.files) {
        files_.push_back(std::make_unique<weights::SafetensorsFile>(path));
        const auto* file = files_.back().get();
        for (const auto& t : file->header().tensors) {
            if (!where_.emplace(t.name, Located{file, &t}).second) {
                throw Error(ErrorCode::Config, path.string() + ": tensor '" + t.name +
                                                   "' is also in " + where_[t.name].file->path().string());
            }
        }
    }
    origin_ = files.index.empty() ? (files.files.empty() ? std::string("(no files)") : files.files.front().string())
                                  : files.index.string();
}

CheckpointReader CheckpointReader::open_component(const std::filesystem::path& dir, const std::string& variant) {
    return CheckpointReader(weights::select_weights(dir, variant));
}

CheckpointReader CheckpointReader::open_file(const std::filesystem::path& file) {
    weights::WeightFiles files;
    files.files.push_back(file);
    return CheckpointReader(files);
}

const weights::TensorInfo& CheckpointReader::info(const std::string& name) const {
    auto it = where_.find(name);
    if (it == where_.end()) throw Error(ErrorCode::Config, origin_ + ": no tensor '" + name + "'");
    return *it->second.info;
}

std::vector<std::string> CheckpointReader::names() const {
    std::vector<std::string> out;
    out.reserve(where_.size());
    for (const auto& [name, _] : where_) out.push_back(name);
    return out;
}

at::Tensor CheckpointReader::read(const std::string& name, at::Device device,
                                  std::optional<at::ScalarType> dtype) const {
    auto it = where_.find(name);
    if (it == where_.end()) throw Error(ErrorCode::Config, origin_ + ": no tensor '" + name + "'");
    const auto& [file, tinfo] = it->second;
    auto source = to_scalar_type(tinfo->dtype, file->path().string() + " tensor '" + name + "'");
    std::vector<int64_t> shape(tinfo->shape.begin(), tinfo->shape.end());
    auto bytes = file->tensor_bytes(*tinfo);
    // A view of the mapped bytes: nothing is copied until the conversion below, which writes the
    // result straight into its device and dtype. safetensors does not align tensors, so an
    // unaligned view is first copied as raw bytes (ATen kernels may assume element alignment).
    auto mapped = at::from_blob(const_cast<std::uint8_t*>(bytes.data), shape,
                                at::TensorOptions().dtype(source).device(at::kCPU));
    if (reinterpret_cast<std::uintptr_t>(bytes.data) % mapped.element_size() != 0) {
        auto raw = at::from_blob(const_cast<std::uint8_t*>(bytes.data), {static_cast<int64_t>(bytes.size)},
                                 at::TensorOptions().dtype(at::kByte));
        mapped = raw.clone().view(source).view(shape);
    }
    at::ScalarType target = source;
    if (dtype && at::isFloatingType(source)) target = *dtype;
    // to() returns the same tensor when nothing changes; the mapping must not escape.
    auto out = mapped.to(device, target, /*non_blocking=*/false, /*copy=*/true);
    return out;
}

std::map<std::string, at::Tensor> CheckpointReader::read_all() const {
    std::map<std::string, at::Tensor> out;
    for (const auto& [name, _] : where_) out.emplace(name, read(name));
    return out;
}

std::string CheckpointReader::describe() const { return origin_; }

}  // namespace vmeval::nn
