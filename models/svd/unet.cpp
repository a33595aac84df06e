#include "models/svd/unet.hpp"

#include <ATen/ATen.h>

#include "models/torch/runtime/checkpoint_reader.hpp"
#include "models/torch/runtime/load.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::svd {

namespace {

/// A per-block setting written as one number (same for every block) or one per block.
std::vector<int64_t> per_block(const nn::ConfigFile& file, const std::string& key,
                               std::size_t blocks, int64_t fallback) {
    if (!file.has(key)) return std::vector<int64_t>(blocks, fallback);
    const auto& v = file.json().at(key);
    if (v.is_number_integer()) return std::vector<int64_t>(blocks, v.get<int64_t>());
    if (v.is_array()) {
        for (const auto& item : v)
            if (!item.is_number_integer())
                throw Error(ErrorCode::Config,
                            file.path().string() + ": '" + key +
                                "' must be integers (nested per-layer lists are not supported)");
        auto values = v.get<std::vector<int64_t>>();
        if (values.size() != blocks)
            throw Error(ErrorCode::Config, file.path().string() + ": '" + key + "' has " +
                                               std::to_string(values.size()) + " entries for " +
                                               std::to_string(blocks) +
                                               " down blocks; give one per block");
        return values;
    }
    throw Error(ErrorCode::Config,
                file.path().string() + ": '" + key + "' must be an integer or a list of integers");
}

nn::AttentionOptions attention(int64_t dim, int64_t heads, int64_t head_dim, int64_t cross = 0) {
    nn::AttentionOptions o;
    o.query_dim = dim;
    o.cross_attention_dim = cross;
    o.heads = heads;
    o.dim_head = head_dim;
    return o;
}

nn::LayerNormOptions layer_norm(int64_t dim) {
    nn::LayerNormOptions o;
    o.dim = dim;
    return o;
}

nn::FeedForwardOptions geglu(int64_t dim, int64_t dim_out = 0) {
    nn::FeedForwardOptions o;
    o.dim = dim;
    o.dim_out = dim_out;
    o.activation = nn::FFActivation::GEGLU;
    return o;
}

nn::SpatioTemporalResBlockOptions resblock(int64_t in, int64_t out, int64_t temb, double eps) {
    nn::SpatioTemporalResBlockOptions o;
    o.in_channels = in;
    o.out_channels = out;
    o.temb_channels = temb;
    o.eps = eps;
    return o;
}

nn::TimestepsOptions sinusoid(int64_t channels) {
    nn::TimestepsOptions o;
    o.num_channels = channels;
    o.flip_sin_to_cos = true;
    o.downscale_freq_shift = 0;
    return o;
}

nn::TimestepEmbeddingOptions mlp(int64_t in, int64_t dim, int64_t out = 0) {
    nn::TimestepEmbeddingOptions o;
    o.in_channels = in;
    o.time_embed_dim = dim;
    o.out_dim = out;
    return o;
}

}  // namespace

UNetConfig UNetConfig::from(const nn::ConfigFile& file) {
    UNetConfig c;
    c.in_channels = file.get<int64_t>("in_channels", 8);
    c.out_channels = file.get<int64_t>("out_channels", 4);
    c.block_out_channels =
        file.get<std::vector<int64_t>>("block_out_channels", {320, 640, 1280, 1280});
    c.down_block_types = file.get<std::vector<std::string>>(
        "down_block_types", {"CrossAttnDownBlockSpatioTemporal", "CrossAttnDownBlockSpatioTemporal",
                             "CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"});
    c.up_block_types = file.get<std::vector<std::string>>(
        "up_block_types", {"UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal",
                           "CrossAttnUpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"});
    const auto n = c.block_out_channels.size();
    if (n == 0 || c.down_block_types.size() != n || c.up_block_types.size() != n)
        throw Error(ErrorCode::Config,
                    file.path().string() +
                        ": 'down_block_types', 'up_block_types' and 'block_out_channels' must "
                        "have the same (non-zero) length");
    for (const auto& t : c.down_block_types)
        if (t != "CrossAttnDownBlockSpatioTemporal" && t != "DownBlockSpatioTemporal")
            throw Error(ErrorCode::Config,
                        file.path().string() + ": down block type '" + t +
                            "' is not a spatio-temporal block this UNet supports");
    for (const auto& t : c.up_block_types)
        if (t != "CrossAttnUpBlockSpatioTemporal" && t != "UpBlockSpatioTemporal")
            throw Error(ErrorCode::Config,
                        file.path().string() + ": up block type '" + t +
                            "' is not a spatio-temporal block this UNet supports");
    for (auto ch : c.block_out_channels)
        if (ch % 32 != 0)
            throw Error(ErrorCode::Config, file.path().string() +
                                               ": 'block_out_channels' must be multiples of 32 "
                                               "(GroupNorm with 32 groups)");
    c.addition_time_embed_dim = file.get<int64_t>("addition_time_embed_dim", 256);
    c.projection_class_embeddings_input_dim =
        file.get<int64_t>("projection_class_embeddings_input_dim", 768);
    c.layers_per_block = per_block(file, "layers_per_block", n, 2);
    c.cross_attention_dim = per_block(file, "cross_attention_dim", n, 1024);
    c.transformer_layers_per_block = per_block(file, "transformer_layers_per_block", n, 1);
    if (!file.has("num_attention_heads"))
        c.num_attention_heads = {5, 10, 20, 20};
    else
        c.num_attention_heads = per_block(file, "num_attention_heads", n, 0);
    if (c.num_attention_heads.size() != n)
        throw Error(ErrorCode::Config,
                    file.path().string() + ": 'num_attention_heads' needs one entry per block");
    for (std::size_t i = 0; i < n; ++i)
        if (c.num_attention_heads[i] <= 0 ||
            c.block_out_channels[i] % c.num_attention_heads[i] != 0)
            throw Error(
                ErrorCode::Config,
                file.path().string() + ": 'num_attention_heads' must divide 'block_out_channels'");
    c.num_frames = file.get<int64_t>("num_frames", 25);
    return c;
}

// ---------------------------------------------------------------------------------------------

BasicTransformerBlock::BasicTransformerBlock(int64_t dim, int64_t heads, int64_t head_dim,
                                             int64_t cross)
    : norm1_(child<nn::LayerNorm>("norm1", layer_norm(dim))),
      attn1_(child<nn::Attention>("attn1", attention(dim, heads, head_dim))),
      norm2_(child<nn::LayerNorm>("norm2", layer_norm(dim))),
      attn2_(child<nn::Attention>("attn2", attention(dim, heads, head_dim, cross))),
      norm3_(child<nn::LayerNorm>("norm3", layer_norm(dim))),
      ff_(child<nn::FeedForward>("ff", geglu(dim))) {}

at::Tensor BasicTransformerBlock::forward(const at::Tensor& x, const at::Tensor& context) const {
    auto h = attn1_.forward(norm1_.forward(x)) + x;
    h = attn2_.forward(norm2_.forward(h), context) + h;
    return ff_.forward(norm3_.forward(h)) + h;
}

TemporalBasicTransformerBlock::TemporalBasicTransformerBlock(int64_t dim, int64_t inner,
                                                             int64_t heads, int64_t head_dim,
                                                             int64_t cross)
    : is_res_(dim == inner),
      norm_in_(child<nn::LayerNorm>("norm_in", layer_norm(dim))),
      ff_in_(child<nn::FeedForward>("ff_in", geglu(dim, inner))),
      norm1_(child<nn::LayerNorm>("norm1", layer_norm(inner))),
      attn1_(child<nn::Attention>("attn1", attention(inner, heads, head_dim))),
      norm2_(child<nn::LayerNorm>("norm2", layer_norm(inner))),
      attn2_(child<nn::Attention>("attn2", attention(inner, heads, head_dim, cross))),
      norm3_(child<nn::LayerNorm>("norm3", layer_norm(inner))),
      ff_(child<nn::FeedForward>("ff", geglu(inner))) {}

at::Tensor TemporalBasicTransformerBlock::forward(const at::Tensor& x, int64_t frames,
                                                  const at::Tensor& context) const {
    const int64_t bf = x.size(0), seq = x.size(1), ch = x.size(2), batch = bf / frames;
    // Attention runs along time: one sequence of `frames` tokens per pixel.
    auto h = x.reshape({batch, frames, seq, ch})
                 .permute({0, 2, 1, 3})
                 .reshape({batch * seq, frames, ch});
    auto residual = h;
    h = ff_in_.forward(norm_in_.forward(h));
    if (is_res_) h = h + residual;
    h = attn1_.forward(norm1_.forward(h)) + h;
    h = attn2_.forward(norm2_.forward(h), context) + h;
    auto ff = ff_.forward(norm3_.forward(h));
    h = is_res_ ? ff + h : ff;
    const int64_t out_ch = h.size(2);
    return h.reshape({batch, seq, frames, out_ch})
        .permute({0, 2, 1, 3})
        .reshape({batch * frames, seq, out_ch});
}

TransformerSpatioTemporal::TransformerSpatioTemporal(int64_t heads, int64_t head_dim,
                                                     int64_t in_channels, int64_t num_layers,
                                                     int64_t cross)
    : in_channels_(in_channels),
      norm_(child<nn::GroupNorm>("norm", 32, in_channels, 1e-6)),
      proj_in_(child<nn::Linear>("proj_in", in_channels, heads * head_dim)),
      blocks_(child<nn::ModuleList<BasicTransformerBlock>>("transformer_blocks")),
      temporal_blocks_(
          child<nn::ModuleList<TemporalBasicTransformerBlock>>("temporal_transformer_blocks")),
      time_pos_embed_(child<nn::TimestepEmbedding>("time_pos_embed",
                                                   mlp(in_channels, in_channels * 4, in_channels))),
      time_proj_(sinusoid(in_channels)),
      time_mixer_(child<nn::AlphaBlender>("time_mixer", 0.5, nn::MergeStrategy::LearnedWithImages)),
      proj_out_(child<nn::Linear>("proj_out", heads * head_dim, in_channels)) {
    const int64_t inner = heads * head_dim;
    for (int64_t i = 0; i < num_layers; ++i) {
        blocks_.push_back(inner, heads, head_dim, cross);
        temporal_blocks_.push_back(inner, inner, heads, head_dim, cross);
    }
}

at::Tensor TransformerSpatioTemporal::forward(const at::Tensor& x, const at::Tensor& context,
                                              const at::Tensor& indicator) const {
    const int64_t bf = x.size(0), height = x.size(2), width = x.size(3);
    const int64_t frames = indicator.size(-1), batch = bf / frames, pixels = height * width;
    // The temporal blocks cross-attend to the first frame's context only, once per pixel.
    auto first = context.reshape({batch, frames, -1, context.size(-1)}).select(1, 0);
    auto time_context = first.unsqueeze(1)
                            .expand({batch, pixels, first.size(1), first.size(2)})
                            .reshape({batch * pixels, first.size(1), first.size(2)});

    auto h = norm_.forward(x);
    h = h.permute({0, 2, 3, 1}).reshape({bf, pixels, in_channels_});
    h = proj_in_.forward(h);

    auto positions =
        at::arange(frames, at::TensorOptions().dtype(at::kLong).device(x.device())).repeat({batch});
    auto pos =
        time_pos_embed_.forward(time_proj_.forward(positions).to(h.scalar_type())).unsqueeze(1);

    for (std::size_t i = 0; i < blocks_.size(); ++i) {
        h = blocks_[i].forward(h, context);
        auto mixed = temporal_blocks_[i].forward(h + pos, frames, time_context);
        h = time_mixer_.forward(h, mixed, indicator);
    }
    h = proj_out_.forward(h);
    h = h.reshape({bf, height, width, in_channels_}).permute({0, 3, 1, 2}).contiguous();
    return h + x;
}

// ---------------------------------------------------------------------------------------------

DownBlock::DownBlock(const Options& o)
    : resnets_(child<nn::ModuleList<nn::SpatioTemporalResBlock>>("resnets")) {
    if (o.with_attention)
        attentions_ = &child<nn::ModuleList<TransformerSpatioTemporal>>("attentions");
    // diffusers hard-codes these: 1e-6 in the cross-attention block, 1e-5 in the plain one.
    const double eps = o.with_attention ? 1e-6 : 1e-5;
    for (int64_t i = 0; i < o.num_layers; ++i) {
        resnets_.push_back(resblock(i == 0 ? o.in_channels : o.out_channels, o.out_channels,
                                    o.temb_channels, eps));
        if (attentions_)
            attentions_->push_back(o.heads, o.out_channels / o.heads, o.out_channels,
                                   o.transformer_layers, o.cross_attention_dim);
    }
    if (o.add_downsample) {
        downsamplers_ = &child<nn::ModuleList<nn::Downsample2D>>("downsamplers");
        downsamplers_->push_back(o.out_channels, true, o.out_channels, 1);
    }
}

at::Tensor DownBlock::forward(at::Tensor x, const BlockInputs& in,
                              std::vector<at::Tensor>& skips) const {
    for (std::size_t i = 0; i < resnets_.size(); ++i) {
        x = resnets_[i].forward(x, in.temb, in.indicator);
        if (attentions_) x = (*attentions_)[i].forward(x, in.context, in.indicator);
        skips.push_back(x);
    }
    if (downsamplers_) {
        x = (*downsamplers_)[0].forward(x);
        skips.push_back(x);
    }
    return x;
}

UpBlock::UpBlock(const Options& o)
    : resnets_(child<nn::ModuleList<nn::SpatioTemporalResBlock>>("resnets")) {
    if (o.with_attention)
        attentions_ = &child<nn::ModuleList<TransformerSpatioTemporal>>("attentions");
    for (int64_t i = 0; i < o.num_layers; ++i) {
        const int64_t skip = i == o.num_layers - 1 ? o.in_channels : o.out_channels;
        const int64_t input = i == 0 ? o.prev_output_channels : o.out_channels;
        resnets_.push_back(resblock(input + skip, o.out_channels, o.temb_channels, 1e-6));
        if (attentions_)
            attentions_->push_back(o.heads, o.out_channels / o.heads, o.out_channels,
                                   o.transformer_layers, o.cross_attention_dim);
    }
    if (o.add_upsample) {
        upsamplers_ = &child<nn::ModuleList<nn::Upsample2D>>("upsamplers");
        upsamplers_->push_back(o.out_channels, true, o.out_channels);
    }
}

at::Tensor UpBlock::forward(at::Tensor x, const BlockInputs& in, std::vector<at::Tensor>& skips,
                            const std::optional<std::array<int64_t, 2>>& upsample_size) const {
    for (std::size_t i = 0; i < resnets_.size(); ++i) {
        x = at::cat({x, skips.back()}, 1);
        skips.pop_back();
        x = resnets_[i].forward(x, in.temb, in.indicator);
        if (attentions_) x = (*attentions_)[i].forward(x, in.context, in.indicator);
    }
    if (upsamplers_) x = (*upsamplers_)[0].forward(x, upsample_size);
    return x;
}

MidBlock::MidBlock(int64_t channels, int64_t temb, int64_t transformer_layers, int64_t heads,
                   int64_t cross)
    : resnets_(child<nn::ModuleList<nn::SpatioTemporalResBlock>>("resnets")),
      attentions_(child<nn::ModuleList<TransformerSpatioTemporal>>("attentions")) {
    resnets_.push_back(resblock(channels, channels, temb, 1e-5));
    attentions_.push_back(heads, channels / heads, channels, transformer_layers, cross);
    resnets_.push_back(resblock(channels, channels, temb, 1e-5));
}

at::Tensor MidBlock::forward(const at::Tensor& x, const BlockInputs& in) const {
    auto h = resnets_[0].forward(x, in.temb, in.indicator);
    h = attentions_[0].forward(h, in.context, in.indicator);
    return resnets_[1].forward(h, in.temb, in.indicator);
}

// ---------------------------------------------------------------------------------------------

UNet::UNet(UNetConfig config)
    : config_(std::move(config)),
      conv_in_(child<nn::Conv2d>("conv_in", config_.in_channels, config_.block_out_channels[0], 3,
                                 1, 1)),
      time_proj_(sinusoid(config_.block_out_channels[0])),
      time_embedding_(child<nn::TimestepEmbedding>(
          "time_embedding", mlp(config_.block_out_channels[0], config_.block_out_channels[0] * 4))),
      add_time_proj_(sinusoid(config_.addition_time_embed_dim)),
      add_embedding_(child<nn::TimestepEmbedding>(
          "add_embedding",
          mlp(config_.projection_class_embeddings_input_dim, config_.block_out_channels[0] * 4))),
      down_blocks_(child<nn::ModuleList<DownBlock>>("down_blocks")),
      mid_block_(child<MidBlock>(
          "mid_block", config_.block_out_channels.back(), config_.block_out_channels[0] * 4,
          config_.transformer_layers_per_block.back(), config_.num_attention_heads.back(),
          config_.cross_attention_dim.back())),
      up_blocks_(child<nn::ModuleList<UpBlock>>("up_blocks")),
      conv_norm_out_(
          child<nn::GroupNorm>("conv_norm_out", 32, config_.block_out_channels[0], 1e-5)),
      conv_out_(child<nn::Conv2d>("conv_out", config_.block_out_channels[0], config_.out_channels,
                                  3, 1, 1)) {
    const auto& c = config_;
    const int64_t temb = c.block_out_channels[0] * 4;
    const auto n = c.block_out_channels.size();
    int64_t output = c.block_out_channels[0];
    for (std::size_t i = 0; i < n; ++i) {
        const int64_t input = output;
        output = c.block_out_channels[i];
        down_blocks_.push_back(DownBlock::Options{
            input, output, temb, c.layers_per_block[i],
            c.down_block_types[i] == "CrossAttnDownBlockSpatioTemporal", i + 1 < n,
            c.transformer_layers_per_block[i], c.num_attention_heads[i], c.cross_attention_dim[i]});
    }
    output = c.block_out_channels[n - 1];
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t r = n - 1 - i;  // the mirrored down block
        const int64_t prev = output;
        output = c.block_out_channels[r];
        const int64_t input = c.block_out_channels[r == 0 ? 0 : r - 1];
        up_blocks_.push_back(UpBlock::Options{
            input, prev, output, temb, c.layers_per_block[r] + 1,
            c.up_block_types[i] == "CrossAttnUpBlockSpatioTemporal", i + 1 < n,
            c.transformer_layers_per_block[r], c.num_attention_heads[r], c.cross_attention_dim[r]});
    }
}

at::Tensor UNet::forward(const at::Tensor& sample, const at::Tensor& timestep,
                         const at::Tensor& encoder_hidden_states,
                         const at::Tensor& added_time_ids) const {
    const int64_t batch = sample.size(0), frames = sample.size(1);
    const auto dtype = sample.scalar_type();
    auto t = timestep.reshape({-1}).to(sample.device());
    if (t.numel() == 1) t = t.expand({batch});

    auto emb = time_embedding_.forward(time_proj_.forward(t).to(dtype));
    auto added =
        add_time_proj_.forward(added_time_ids.flatten()).reshape({batch, -1}).to(emb.scalar_type());
    emb = emb + add_embedding_.forward(added);

    auto x = sample.flatten(0, 1);
    emb = emb.repeat_interleave(frames, 0);
    auto context = encoder_hidden_states.repeat_interleave(frames, 0);
    x = conv_in_.forward(x);
    auto indicator = at::zeros({batch, frames}, x.options());
    const BlockInputs in{emb, context, indicator};

    // Sizes that are not a multiple of the total downsampling need the upsampler told its target.
    const int64_t factor = int64_t{1} << (up_blocks_.size() - 1);
    const bool force_size = x.size(-1) % factor != 0 || x.size(-2) % factor != 0;

    std::vector<at::Tensor> skips{x};
    for (const auto* block : down_blocks_) x = block->forward(x, in, skips);
    x = mid_block_.forward(x, in);
    for (std::size_t i = 0; i < up_blocks_.size(); ++i) {
        std::optional<std::array<int64_t, 2>> size;
        const auto& block = up_blocks_[i];
        if (force_size && i + 1 < up_blocks_.size()) {
            const auto& next = skips[skips.size() - block.num_resnets() - 1];
            size = std::array<int64_t, 2>{next.size(2), next.size(3)};
        }
        x = block.forward(x, in, skips, size);
    }
    x = conv_out_.forward(at::silu(conv_norm_out_.forward(x)));
    return x.reshape({batch, frames, x.size(1), x.size(2), x.size(3)});
}

nn::CheckpointReader open_checkpoint(const std::filesystem::path& dir, const std::string& variant) {
    if (!variant.empty()) {
        try {
            return nn::CheckpointReader::open_component(dir, variant);
        } catch (const Error&) {
            // No such variant here: the full-precision files serve as well.
        }
    }
    return nn::CheckpointReader::open_component(dir);
}

std::unique_ptr<UNet> UNet::load(const std::filesystem::path& dir, at::Device device,
                                 at::ScalarType dtype, const std::string& variant) {
    auto config = UNetConfig::from(nn::ConfigFile::load(dir / "config.json"));
    auto unet = std::make_unique<UNet>(std::move(config));
    auto reader = open_checkpoint(dir, variant);
    nn::LoadOptions options;
    options.device = device;
    options.dtype = dtype;
    nn::load_weights(*unet, reader, options);
    return unet;
}

}  // namespace vmeval::svd
