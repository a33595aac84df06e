#include "models/torch/runtime/module.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <stdexcept>

namespace vmeval::nn {

at::Tensor& Module::param(const std::string& name, std::vector<int64_t> shape, Keep keep) {
    slots_.push_back(Slot{name, at::Tensor(), std::move(shape), keep, true});
    return slots_.back().tensor;
}

at::Tensor& Module::buffer(const std::string& name, at::Tensor value) {
    std::vector<int64_t> shape(value.sizes().begin(), value.sizes().end());
    slots_.push_back(Slot{name, std::move(value), std::move(shape), Keep::Float32, false});
    return slots_.back().tensor;
}

std::vector<Module::Entry> Module::named_tensors(const std::string& prefix) {
    std::vector<Entry> out;
    for (auto& s : slots_) out.push_back(Entry{prefix + s.name, &s.tensor, s.shape, s.keep, s.persistent});
    for (auto& [name, child] : children_) {
        auto sub = child->named_tensors(prefix + name + ".");
        out.insert(out.end(), std::make_move_iterator(sub.begin()), std::make_move_iterator(sub.end()));
    }
    return out;
}

void Module::to(at::Device device, std::optional<at::ScalarType> dtype) {
    for (auto& e : named_tensors()) {
        if (!e.tensor->defined()) continue;
        bool floating = at::isFloatingType(e.tensor->scalar_type());
        auto target = (dtype && floating && e.keep == Keep::ComputeDType) ? *dtype : e.tensor->scalar_type();
        *e.tensor = e.tensor->to(device, target);
    }
}

std::uint64_t Module::bytes() {
    std::uint64_t total = 0;
    for (auto& e : named_tensors())
        if (e.tensor->defined()) total += e.tensor->numel() * e.tensor->element_size();
    return total;
}

Visit::Visit(Module* module, at::Device device, bool active) : module_(active ? module : nullptr) {
    if (module_) module_->to(device);
}

Visit::~Visit() {
    if (module_) module_->to(at::kCPU);
}

void init_random(Module& module, std::uint64_t seed, double std, at::Device device, at::ScalarType dtype) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    for (auto& e : module.named_tensors()) {
        if (!e.persistent) continue;
        auto t = at::normal(0.0, std, e.shape, gen, at::TensorOptions().dtype(at::kFloat));
        *e.tensor = t.to(device, e.keep == Keep::Float32 ? at::kFloat : dtype);
    }
}

}  // namespace vmeval::nn
