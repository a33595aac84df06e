#pragma once

// Rotary position embeddings: diffusers' get_1d_rotary_pos_embed / apply_rotary_emb, and Wan's
// 3D video RoPE (WanRotaryPosEmbed) with the rotation WanAttnProcessor applies.

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>

#include "models/torch/blocks/attention.hpp"

namespace vmeval::nn {

/// Real form of get_1d_rotary_pos_embed: cos and sin of [S, dim], each frequency repeated twice,
/// interleaved (c0 c0 c1 c1 ...) when `repeat_interleave` or concatenated (c0 c1 ... c0 c1 ...)
/// otherwise. Frequencies are built in `freqs_dtype` (fp64 for Wan, Flux) and returned as fp32.
RotaryTables rotary_1d(int64_t dim, const at::Tensor& positions, double theta = 10000.0,
                       bool repeat_interleave = true, at::ScalarType freqs_dtype = at::kFloat,
                       double linear_factor = 1.0, double ntk_factor = 1.0);
/// Complex form: exp(i · pos · freq) as complex64 [S, dim / 2] (Lumina-style callers).
at::Tensor rotary_1d_complex(int64_t dim, const at::Tensor& positions, double theta = 10000.0,
                             at::ScalarType freqs_dtype = at::kFloat);

/// diffusers apply_rotary_emb, real form with pairs (x[2i], x[2i+1]) rotated (use_real_unbind_dim
/// -1): x [B, H, S, D] with cos/sin [S, D] (sequence_dim 2) or x [B, S, H, D] (sequence_dim 1).
/// Computed in fp32, returned in x's dtype.
at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, int sequence_dim = 2);
/// Complex form, as diffusers applies it (Lumina): x [B, S, H, D] times freqs_cis
/// [B or 1, S, D / 2].
at::Tensor apply_rotary_complex(const at::Tensor& x, const at::Tensor& freqs_cis);
/// WanAttnProcessor's rotation of x [B, S, H, D] by tables [1, S, 1, D] (interleaved form).
at::Tensor apply_rotary_wan(const at::Tensor& x, const RotaryTables& rope);

/// WanRotaryPosEmbed: head_dim split into time/height/width parts (h = w = 2 * (head_dim / 6)),
/// each an interleaved 1D table up to max_seq_len built in fp64, indexed by the patch grid.
class WanRotaryEmbedding {
public:
    WanRotaryEmbedding(int64_t head_dim, std::array<int64_t, 3> patch_size, int64_t max_seq_len = 1024,
                       double theta = 10000.0);
    /// Tables [1, F*H*W, 1, head_dim] (fp32) for latents [B, C, F, H, W], on their device.
    RotaryTables forward(const at::Tensor& latents) const;
    /// The same for a grid of F x H x W patches, on the CPU.
    RotaryTables for_grid(int64_t frames, int64_t height, int64_t width) const;

private:
    std::array<int64_t, 3> split_;
    std::array<int64_t, 3> patch_;
    at::Tensor cos_;  // [max_seq_len, head_dim]
    at::Tensor sin_;
};

}  // namespace vmeval::nn
