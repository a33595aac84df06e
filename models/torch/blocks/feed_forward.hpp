#pragma once

// diffusers.models.attention.FeedForward: net.0 (projection + activation, "net.0.proj"),
// net.1 dropout (no weights), net.2 the output Linear.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "models/torch/blocks/layers.hpp"
#include "models/torch/runtime/module.hpp"

namespace vmeval::nn {

/// The activation_fn values of FeedForward: "gelu", "gelu-approximate" (tanh), "geglu",
/// "geglu-approximate" (x * sigmoid(1.702 x)), "swiglu", "linear-silu".
enum class FFActivation { GELU, GELUTanh, GEGLU, ApproxGELU, SwiGLU, LinearSiLU };
/// Parses the config string; throws Error(Config) naming the unknown value.
FFActivation parse_ff_activation(const std::string& name);

struct FeedForwardOptions {
    int64_t dim = 0;
    int64_t dim_out = 0;    ///< 0 = dim
    int64_t inner_dim = 0;  ///< 0 = dim * mult
    int64_t mult = 4;
    FFActivation activation = FFActivation::GEGLU;
    bool bias = true;
};

class FeedForward : public Module {
public:
    explicit FeedForward(const FeedForwardOptions& options);
    at::Tensor forward(const at::Tensor& x) const;

private:
    /// net.0: the input projection (doubled width for the gated forms) with its activation.
    class Activation : public Module {
    public:
        Activation(int64_t dim, int64_t inner, FFActivation act, bool bias);
        at::Tensor forward(const at::Tensor& x) const;

    private:
        FFActivation act_;
        Linear& proj_;
    };
    Activation* act_ = nullptr;
    Linear* out_ = nullptr;
};

}  // namespace vmeval::nn
