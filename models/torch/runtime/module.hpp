#pragma once

// A small module tree for inference. Parameters are declared with their checkpoint names and
// shapes when a module is built and stay undefined until weights are loaded (load.hpp), so a 14B
// network costs nothing until its weights arrive, and names are checked against the file.
// torch::nn is not used: it brings autograd machinery and heavy headers that inference never needs.

#include <ATen/core/Tensor.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vmeval::nn {

/// The dtype a parameter takes when loaded: the model's compute dtype, or fp32 always (norm
/// weights and modulation tables the reference implementations keep in fp32).
enum class Keep { ComputeDType, Float32 };

class Module {
public:
    Module() = default;
    virtual ~Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    /// One parameter or buffer of the tree.
    struct Entry {
        std::string name;            ///< dotted checkpoint name, e.g. "blocks.0.attn1.to_q.weight"
        at::Tensor* tensor;          ///< the slot; undefined before loading
        std::vector<int64_t> shape;  ///< the shape the checkpoint must have
        Keep keep;
        bool persistent;             ///< false for buffers the module computes itself
    };
    /// Every tensor under its full name, in declaration order, children after their parent's own.
    std::vector<Entry> named_tensors(const std::string& prefix = "");
    /// Moves and casts every defined tensor (parameters keep Keep::Float32 in fp32). Used to offload
    /// idle components to the CPU and bring them back.
    void to(at::Device device, std::optional<at::ScalarType> dtype = std::nullopt);
    /// Total bytes of the defined tensors.
    std::uint64_t bytes();

protected:
    /// Declares a checkpoint parameter.
    at::Tensor& param(const std::string& name, std::vector<int64_t> shape, Keep keep = Keep::ComputeDType);
    /// A buffer the module computes itself (not read from checkpoints), moved by to().
    at::Tensor& buffer(const std::string& name, at::Tensor value);
    /// Adds a child module under `name`.
    template <class M, class... Args>
    M& child(const std::string& name, Args&&... args) {
        auto owned = std::make_unique<M>(std::forward<Args>(args)...);
        M& ref = *owned;
        children_.emplace_back(name, std::move(owned));
        return ref;
    }

private:
    struct Slot {
        std::string name;
        at::Tensor tensor;
        std::vector<int64_t> shape;
        Keep keep;
        bool persistent;
    };
    std::deque<Slot> slots_;  // deque: slot addresses stay valid as more are declared
    std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
};

/// Children named "0", "1", ... as in torch.nn.ModuleList.
template <class M>
class ModuleList : public Module {
public:
    template <class... Args>
    M& push_back(Args&&... args) {
        M& m = this->template child<M>(std::to_string(items_.size()), std::forward<Args>(args)...);
        items_.push_back(&m);
        return m;
    }
    M& operator[](std::size_t i) const { return *items_.at(i); }
    std::size_t size() const { return items_.size(); }
    auto begin() const { return items_.begin(); }
    auto end() const { return items_.end(); }

private:
    std::vector<M*> items_;
};

/// Fills every parameter with N(0, std) from a seeded generator, on `device` in `dtype` (fp32 for
/// Keep::Float32): real-size random networks for benchmarks and memory checks.
void init_random(Module& module, std::uint64_t seed, double std, at::Device device, at::ScalarType dtype);

/// Offloading: brings `module` to `device` for one scope and sends it back to the CPU at the end.
/// Does nothing when `active` is false (the module lives on its device) or `module` is null.
class Visit {
public:
    Visit(Module* module, at::Device device, bool active);
    ~Visit();
    Visit(const Visit&) = delete;
    Visit& operator=(const Visit&) = delete;

private:
    Module* module_;
};

}  // namespace vmeval::nn
