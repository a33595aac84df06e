#pragma once

// The few layers the encoders need, kept local to this area: linear, affine layer norm, T5's RMS
// norm, and the activations transformers names in config.json ("hidden_act", "dense_act_fn").

#include <ATen/core/Tensor.h>

#include <string>

#include "models/torch/runtime/checkpoint_reader.hpp"
#include "models/torch/runtime/config.hpp"
#include "models/torch/runtime/load.hpp"
#include "models/torch/runtime/module.hpp"

// The encoders live in their own namespace: their Linear casts its input to the weight's dtype
// (T5 keeps `wo` in fp32 under fp16) and their activations follow transformers' names, unlike the
// diffusers-shaped layers of models/torch/blocks in vmeval::nn.
namespace vmeval::enc {

using nn::check_weights;
using nn::CheckpointReader;
using nn::ConfigFile;
using nn::Keep;
using nn::load_weights;
using nn::LoadOptions;
using nn::LoadReport;
using nn::Module;
using nn::ModuleList;

/// torch.nn.Linear: "weight" [out, in] and an optional "bias" [out].
class Linear : public Module {
public:
    Linear(int64_t in, int64_t out, bool bias, Keep keep = Keep::ComputeDType);
    /// Casts `x` to the weight's dtype first, as T5 does before its fp32-kept `wo`.
    at::Tensor operator()(const at::Tensor& x) const;
    const at::Tensor& weight() const { return weight_; }

private:
    at::Tensor& weight_;
    at::Tensor* bias_;
};

/// torch.nn.LayerNorm with affine "weight" and "bias" over the last dimension.
class LayerNorm : public Module {
public:
    LayerNorm(int64_t dim, double eps);
    at::Tensor operator()(const at::Tensor& x) const;

private:
    int64_t dim_;
    double eps_;
    at::Tensor& weight_;
    at::Tensor& bias_;
};

/// T5LayerNorm: RMS norm without mean or bias; the mean square is taken in fp32 whatever the input
/// dtype, and the result is cast back only when the weight is fp16/bf16 (so an fp32 residual
/// stream stays fp32 until it meets a half-precision weight).
class T5LayerNorm : public Module {
public:
    T5LayerNorm(int64_t dim, double eps);
    at::Tensor operator()(const at::Tensor& x) const;

private:
    double eps_;
    at::Tensor& weight_;
};

/// torch.nn.Embedding: "weight" [count, dim].
class Embedding : public Module {
public:
    Embedding(int64_t count, int64_t dim);
    at::Tensor operator()(const at::Tensor& ids) const;
    const at::Tensor& weight() const { return weight_; }

private:
    at::Tensor& weight_;
};

/// An activation of transformers' ACT2FN table.
enum class Activation { ReLU, GELU, GELUTanh, QuickGELU, SiLU };
/// The activation transformers registers under `name` ("gelu", "gelu_new", "gelu_pytorch_tanh",
/// "quick_gelu", "relu", "silu", ...); throws Error(Config) naming `context` for others.
Activation activation_from_name(const std::string& name, const std::string& context);
at::Tensor activate(const at::Tensor& x, Activation activation);

}  // namespace vmeval::enc
