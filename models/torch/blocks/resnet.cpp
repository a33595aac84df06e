#include "models/torch/blocks/resnet.hpp"

#include <ATen/ATen.h>

#include "vmeval/core/error.hpp"

namespace vmeval::nn {

namespace {
int64_t or_default(int64_t v, int64_t fallback) { return v > 0 ? v : fallback; }
}  // namespace

ResnetBlock2D::ResnetBlock2D(const ResnetBlock2DOptions& o)
    : options_(o),
      norm1_(child<GroupNorm>("norm1", o.groups, o.in_channels, o.eps)),
      conv1_(child<Conv2d>("conv1", o.in_channels, or_default(o.out_channels, o.in_channels), 3, 1, 1)),
      norm2_(child<GroupNorm>("norm2", or_default(o.groups_out, o.groups), or_default(o.out_channels, o.in_channels),
                              o.eps)),
      conv2_(child<Conv2d>("conv2", or_default(o.out_channels, o.in_channels),
                           or_default(o.out_channels, o.in_channels), 3, 1, 1)) {
    const int64_t out = or_default(o.out_channels, o.in_channels);
    if (o.temb_channels > 0) {
        const int64_t width = o.time_embedding_norm == TimeEmbeddingNorm::ScaleShift ? 2 * out : out;
        time_emb_proj_ = &child<Linear>("time_emb_proj", o.temb_channels, width);
    }
    if (o.use_in_shortcut.value_or(o.in_channels != out))
        conv_shortcut_ = &child<Conv2d>("conv_shortcut", o.in_channels, out, 1, 1, 0, o.conv_shortcut_bias);
}

at::Tensor ResnetBlock2D::forward(const at::Tensor& x, const at::Tensor& temb) const {
    const auto act = options_.non_linearity;
    auto h = conv1_.forward(activate(norm1_.forward(x), act));
    at::Tensor t;
    if (time_emb_proj_ && temb.defined()) {
        t = options_.skip_time_act ? temb : activate(temb, act);
        t = time_emb_proj_->forward(t).unsqueeze(-1).unsqueeze(-1);
    }
    if (options_.time_embedding_norm == TimeEmbeddingNorm::ScaleShift) {
        if (!t.defined())
            throw Error(ErrorCode::Config, "ResnetBlock2D: time_embedding_norm scale_shift needs a time embedding");
        auto parts = t.chunk(2, 1);
        h = norm2_.forward(h) * (1 + parts[0]) + parts[1];
    } else {
        if (t.defined()) h = h + t;
        h = norm2_.forward(h);
    }
    h = conv2_.forward(activate(h, act));
    auto skip = conv_shortcut_ ? conv_shortcut_->forward(x) : x;
    auto out = skip + h;
    return options_.output_scale_factor != 1.0 ? out / options_.output_scale_factor : out;
}

Downsample2D::Downsample2D(int64_t channels, bool use_conv, int64_t out_channels, int64_t padding,
                           int64_t kernel_size, bool bias)
    : padding_(padding) {
    const int64_t out = or_default(out_channels, channels);
    if (use_conv) {
        conv_ = &child<Conv2d>("conv", channels, out, kernel_size, 2, padding, bias);
    } else if (out != channels) {
        throw Error(ErrorCode::Config, "Downsample2D: average pooling cannot change the channel count");
    }
}

at::Tensor Downsample2D::forward(const at::Tensor& x) const {
    if (!conv_) return at::avg_pool2d(x, {2, 2}, {2, 2});
    auto h = padding_ == 0 ? at::constant_pad_nd(x, {0, 1, 0, 1}) : x;
    return conv_->forward(h);
}

Upsample2D::Upsample2D(int64_t channels, bool use_conv, int64_t out_channels, int64_t kernel_size, int64_t padding,
                       bool bias, bool interpolate)
    : interpolate_(interpolate) {
    if (use_conv)
        conv_ = &child<Conv2d>("conv", channels, or_default(out_channels, channels), kernel_size, 1, padding, bias);
}

at::Tensor Upsample2D::forward(const at::Tensor& x, const std::optional<std::array<int64_t, 2>>& output_size) const {
    auto h = x;
    if (interpolate_) {
        if (output_size)
            h = at::upsample_nearest2d(h, {(*output_size)[0], (*output_size)[1]});
        else
            h = at::upsample_nearest2d(h, {x.size(2) * 2, x.size(3) * 2}, 2.0, 2.0);
    }
    return conv_ ? conv_->forward(h) : h;
}

TemporalResnetBlock::TemporalResnetBlock(int64_t in, int64_t out_channels, int64_t temb_channels, double eps)
    : norm1_(child<GroupNorm>("norm1", 32, in, eps)),
      conv1_(child<Conv3d>("conv1", Conv3dOptions{in, or_default(out_channels, in), {3, 1, 1}, {1, 1, 1}, {1, 0, 0}})),
      norm2_(child<GroupNorm>("norm2", 32, or_default(out_channels, in), eps)),
      conv2_(child<Conv3d>("conv2", Conv3dOptions{or_default(out_channels, in), or_default(out_channels, in),
                                                   {3, 1, 1}, {1, 1, 1}, {1, 0, 0}})) {
    const int64_t out = or_default(out_channels, in);
    if (temb_channels > 0) time_emb_proj_ = &child<Linear>("time_emb_proj", temb_channels, out);
    if (in != out)
        conv_shortcut_ = &child<Conv3d>("conv_shortcut", Conv3dOptions{in, out, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}});
}

at::Tensor TemporalResnetBlock::forward(const at::Tensor& x, const at::Tensor& temb) const {
    auto h = conv1_.forward(at::silu(norm1_.forward(x)));
    if (time_emb_proj_ && temb.defined()) {
        // [B, T, C] -> [B, C, T, 1, 1]
        auto t = time_emb_proj_->forward(at::silu(temb)).permute({0, 2, 1}).unsqueeze(-1).unsqueeze(-1);
        h = h + t;
    }
    h = conv2_.forward(at::silu(norm2_.forward(h)));
    return (conv_shortcut_ ? conv_shortcut_->forward(x) : x) + h;
}

MergeStrategy parse_merge_strategy(const std::string& name) {
    if (name == "fixed") return MergeStrategy::Fixed;
    if (name == "learned") return MergeStrategy::Learned;
    if (name == "learned_with_images") return MergeStrategy::LearnedWithImages;
    throw Error(ErrorCode::Config, "AlphaBlender: unknown merge_strategy \"" + name +
                                       "\" (known: fixed, learned, learned_with_images)");
}

AlphaBlender::AlphaBlender(double alpha, MergeStrategy strategy, bool switch_spatial_to_temporal_mix)
    : strategy_(strategy),
      switch_(switch_spatial_to_temporal_mix),
      mix_factor_(strategy == MergeStrategy::Fixed ? buffer("mix_factor", at::full({1}, alpha, at::kFloat))
                                                   : param("mix_factor", {1})) {}

at::Tensor AlphaBlender::forward(const at::Tensor& x_spatial, const at::Tensor& x_temporal,
                                 const std::optional<at::Tensor>& image_only_indicator) const {
    at::Tensor alpha;
    const auto ndims = x_spatial.dim();
    switch (strategy_) {
        case MergeStrategy::Fixed: alpha = mix_factor_; break;
        case MergeStrategy::Learned: alpha = at::sigmoid(mix_factor_); break;
        case MergeStrategy::LearnedWithImages: {
            if (!image_only_indicator)
                throw Error(ErrorCode::Config, "AlphaBlender: learned_with_images needs image_only_indicator");
            auto learned = at::sigmoid(mix_factor_).to(at::kFloat);
            alpha = at::where(image_only_indicator->to(at::kBool), at::ones({1, 1}, learned.options()), learned);
            if (ndims == 5) alpha = alpha.unsqueeze(1).unsqueeze(-1).unsqueeze(-1);
            else if (ndims == 3) alpha = alpha.reshape({-1, 1, 1});
            else throw Error(ErrorCode::Config, "AlphaBlender: inputs must have 3 or 5 dims");
            break;
        }
    }
    alpha = alpha.to(x_spatial.scalar_type());
    if (switch_) alpha = 1.0 - alpha;
    return alpha * x_spatial + (1.0 - alpha) * x_temporal;
}

namespace {
ResnetBlock2DOptions spatial_options(const SpatioTemporalResBlockOptions& o) {
    ResnetBlock2DOptions r;
    r.in_channels = o.in_channels;
    r.out_channels = o.out_channels;
    r.temb_channels = o.temb_channels;
    r.eps = o.eps;
    return r;
}
}  // namespace

SpatioTemporalResBlock::SpatioTemporalResBlock(const SpatioTemporalResBlockOptions& o)
    : spatial_(child<ResnetBlock2D>("spatial_res_block", spatial_options(o))),
      temporal_(child<TemporalResnetBlock>("temporal_res_block", or_default(o.out_channels, o.in_channels),
                                           or_default(o.out_channels, o.in_channels), o.temb_channels,
                                           o.temporal_eps > 0 ? o.temporal_eps : o.eps)),
      mixer_(child<AlphaBlender>("time_mixer", o.merge_factor, o.merge_strategy, o.switch_spatial_to_temporal_mix)) {}

at::Tensor SpatioTemporalResBlock::forward(const at::Tensor& x, const at::Tensor& temb,
                                           const at::Tensor& image_only_indicator) const {
    const int64_t frames = image_only_indicator.size(-1);
    auto h = spatial_.forward(x, temb);
    const int64_t bt = h.size(0), c = h.size(1), height = h.size(2), width = h.size(3);
    // [B*T, C, H, W] -> [B, C, T, H, W] for the temporal convs.
    auto video = h.reshape({bt / frames, frames, c, height, width}).permute({0, 2, 1, 3, 4});
    auto t = temb.defined() ? temb.reshape({bt / frames, frames, -1}) : temb;
    auto mixed = mixer_.forward(video, temporal_.forward(video, t), image_only_indicator);
    return mixed.permute({0, 2, 1, 3, 4}).reshape({bt, c, height, width});
}

}  // namespace vmeval::nn
