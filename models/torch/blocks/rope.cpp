#include "models/torch/blocks/rope.hpp"

#include <ATen/ATen.h>

#include "vmeval/core/error.hpp"

namespace vmeval::nn {

namespace {
// Outer product of positions and theta^(-2i/dim) / linear_factor, in freqs_dtype: [S, dim / 2].
at::Tensor angles(int64_t dim, const at::Tensor& positions, double theta, at::ScalarType dtype,
                  double linear_factor, double ntk_factor) {
    if (dim % 2 != 0)
        throw Error(ErrorCode::Config, "rotary embedding: dim " + std::to_string(dim) + " must be even");
    auto opts = at::TensorOptions().dtype(dtype).device(positions.device());
    auto exponents = at::arange(0, dim, 2, opts) / static_cast<double>(dim);
    auto freqs = 1.0 / at::pow(theta * ntk_factor, exponents) / linear_factor;
    return at::outer(positions.to(dtype), freqs);
}
}  // namespace

RotaryTables rotary_1d(int64_t dim, const at::Tensor& positions, double theta, bool repeat_interleave,
                       at::ScalarType freqs_dtype, double linear_factor, double ntk_factor) {
    auto a = angles(dim, positions, theta, freqs_dtype, linear_factor, ntk_factor);
    auto c = a.cos(), s = a.sin();
    if (repeat_interleave)
        return {c.repeat_interleave(2, 1).to(at::kFloat), s.repeat_interleave(2, 1).to(at::kFloat)};
    return {at::cat({c, c}, -1).to(at::kFloat), at::cat({s, s}, -1).to(at::kFloat)};
}

at::Tensor rotary_1d_complex(int64_t dim, const at::Tensor& positions, double theta, at::ScalarType freqs_dtype) {
    auto a = angles(dim, positions, theta, freqs_dtype, 1.0, 1.0);
    return at::polar(at::ones_like(a), a);
}

at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, int sequence_dim) {
    if (sequence_dim != 1 && sequence_dim != 2)
        throw Error(ErrorCode::Config, "apply_rotary: sequence_dim must be 1 or 2");
    auto c = sequence_dim == 2 ? cos.unsqueeze(0).unsqueeze(0) : cos.unsqueeze(0).unsqueeze(2);
    auto s = sequence_dim == 2 ? sin.unsqueeze(0).unsqueeze(0) : sin.unsqueeze(0).unsqueeze(2);
    c = c.to(x.device());
    s = s.to(x.device());
    auto pairs = x.unflatten(-1, {-1, 2}).unbind(-1);
    auto rotated = at::stack({-pairs[1], pairs[0]}, -1).flatten(-2);
    return (x.to(at::kFloat) * c + rotated.to(at::kFloat) * s).to(x.scalar_type());
}

at::Tensor apply_rotary_complex(const at::Tensor& x, const at::Tensor& freqs_cis) {
    auto xc = at::view_as_complex(x.to(at::kFloat).unflatten(-1, {-1, 2}).contiguous());
    return at::view_as_real(xc * freqs_cis.unsqueeze(2).to(x.device())).flatten(-2).to(x.scalar_type());
}

at::Tensor apply_rotary_wan(const at::Tensor& x, const RotaryTables& rope) {
    auto pairs = x.unflatten(-1, {-1, 2}).unbind(-1);
    // The tables hold each frequency twice; even entries of cos and odd of sin are the same set.
    using at::indexing::Slice;
    auto c = rope.cos.index({"...", Slice(0, at::indexing::None, 2)});
    auto s = rope.sin.index({"...", Slice(1, at::indexing::None, 2)});
    auto even = pairs[0] * c - pairs[1] * s;
    auto odd = pairs[0] * s + pairs[1] * c;
    return at::stack({even, odd}, -1).flatten(-2).to(x.scalar_type());
}

WanRotaryEmbedding::WanRotaryEmbedding(int64_t head_dim, std::array<int64_t, 3> patch_size, int64_t max_seq_len,
                                       double theta)
    : patch_(patch_size) {
    const int64_t hw = 2 * (head_dim / 6);
    split_ = {head_dim - 2 * hw, hw, hw};
    auto positions = at::arange(max_seq_len, at::TensorOptions().dtype(at::kDouble));
    std::vector<at::Tensor> cs, ss;
    for (int64_t d : split_) {
        auto t = rotary_1d(d, positions, theta, /*repeat_interleave=*/true, at::kDouble);
        cs.push_back(t.cos);
        ss.push_back(t.sin);
    }
    cos_ = at::cat(cs, 1);
    sin_ = at::cat(ss, 1);
}

RotaryTables WanRotaryEmbedding::forward(const at::Tensor& latents) const {
    auto t = for_grid(latents.size(2) / patch_[0], latents.size(3) / patch_[1], latents.size(4) / patch_[2]);
    return {t.cos.to(latents.device()), t.sin.to(latents.device())};
}

RotaryTables WanRotaryEmbedding::for_grid(int64_t f, int64_t h, int64_t w) const {
    if (std::max({f, h, w}) > cos_.size(0))
        throw Error(ErrorCode::Config, "Wan RoPE: a grid of " + std::to_string(f) + "x" + std::to_string(h) + "x" +
                                           std::to_string(w) + " patches exceeds max_seq_len " +
                                           std::to_string(cos_.size(0)) + "; raise rope_max_seq_len in config.json");
    auto grid = [&](const at::Tensor& table) {
        auto parts = table.split_with_sizes({split_[0], split_[1], split_[2]}, 1);
        auto pf = parts[0].slice(0, 0, f).view({f, 1, 1, -1}).expand({f, h, w, -1});
        auto ph = parts[1].slice(0, 0, h).view({1, h, 1, -1}).expand({f, h, w, -1});
        auto pw = parts[2].slice(0, 0, w).view({1, 1, w, -1}).expand({f, h, w, -1});
        return at::cat({pf, ph, pw}, -1).reshape({1, f * h * w, 1, -1});
    };
    return {grid(cos_), grid(sin_)};
}

}  // namespace vmeval::nn
