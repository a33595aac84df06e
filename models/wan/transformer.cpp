#include "models/wan/transformer.hpp"

#include <ATen/ATen.h>

#include "models/torch/blocks/embeddings.hpp"
#include "models/torch/runtime/checkpoint_reader.hpp"
#include "models/torch/runtime/load.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::wan {

namespace {

// The text length WanAttnProcessor assumes when it splits image tokens off the joined context:
// everything before the last 512 tokens is image. We keep the two apart instead, which is the same
// computation for the 512-token contexts the pipelines build.
constexpr int64_t kReferenceTextTokens = 512;

nn::FeedForwardOptions image_ff(int64_t in, int64_t out) {
    nn::FeedForwardOptions f;
    f.dim = in;
    f.dim_out = out;
    f.mult = 1;
    f.activation = nn::FFActivation::GELU;
    return f;
}

nn::DiTBlockOptions block_options(const TransformerConfig& c) {
    nn::DiTBlockOptions o;
    o.dim = c.inner_dim();
    o.ffn_dim = c.ffn_dim;
    o.heads = c.num_attention_heads;
    o.eps = c.eps;
    o.cross_attn_norm = c.cross_attn_norm;
    o.added_kv_proj_dim = c.added_kv_proj_dim;
    return o;
}

int64_t optional_int(const nn::ConfigFile& f, const std::string& key) {
    return f.has(key) ? f.get<int64_t>(key) : 0;
}

}  // namespace

TransformerConfig TransformerConfig::from(const nn::ConfigFile& f) {
    TransformerConfig c;
    if (f.has("patch_size")) {
        auto p = f.get<std::vector<int64_t>>("patch_size");
        if (p.size() != 3)
            throw Error(ErrorCode::Config,
                        f.path().string() + ": 'patch_size' must list 3 integers (t, h, w)");
        c.patch_size = {p[0], p[1], p[2]};
    }
    c.num_attention_heads = f.get<int64_t>("num_attention_heads", c.num_attention_heads);
    c.attention_head_dim = f.get<int64_t>("attention_head_dim", c.attention_head_dim);
    c.in_channels = f.get<int64_t>("in_channels", c.in_channels);
    // The reference takes a null or zero out_channels as in_channels.
    c.out_channels = f.get<int64_t>("out_channels", 0);
    if (c.out_channels == 0) c.out_channels = c.in_channels;
    c.text_dim = f.get<int64_t>("text_dim", c.text_dim);
    c.freq_dim = f.get<int64_t>("freq_dim", c.freq_dim);
    c.ffn_dim = f.get<int64_t>("ffn_dim", c.ffn_dim);
    c.num_layers = f.get<int64_t>("num_layers", c.num_layers);
    c.cross_attn_norm = f.get<bool>("cross_attn_norm", c.cross_attn_norm);
    c.eps = f.get<double>("eps", c.eps);
    c.image_dim = optional_int(f, "image_dim");
    c.added_kv_proj_dim = optional_int(f, "added_kv_proj_dim");
    c.rope_max_seq_len = f.get<int64_t>("rope_max_seq_len", c.rope_max_seq_len);
    c.pos_embed_seq_len = optional_int(f, "pos_embed_seq_len");
    // 'qk_norm' is not read: WanAttention always normalises q and k across heads, whatever it says.
    if (c.attention_head_dim % 2 != 0 || c.num_attention_heads <= 0 || c.num_layers <= 0)
        throw Error(ErrorCode::Config,
                    f.path().string() +
                        ": 'attention_head_dim' must be even and 'num_attention_heads', "
                        "'num_layers' positive");
    if (c.pos_embed_seq_len > 0 && c.image_dim == 0)
        throw Error(ErrorCode::Config,
                    f.path().string() + ": 'pos_embed_seq_len' needs 'image_dim'");
    return c;
}

Fp32Linear::Fp32Linear(int64_t in, int64_t out)
    : weight_(param("weight", {out, in}, nn::Keep::Float32)),
      bias_(param("bias", {out}, nn::Keep::Float32)) {}

at::Tensor Fp32Linear::forward(const at::Tensor& x) const {
    return at::linear(x.to(at::kFloat), weight_, bias_);
}

TimeEmbedder::TimeEmbedder(int64_t in, int64_t dim)
    : linear_1_(child<Fp32Linear>("linear_1", in, dim)),
      linear_2_(child<Fp32Linear>("linear_2", dim, dim)) {}

at::Tensor TimeEmbedder::forward(const at::Tensor& x) const {
    return linear_2_.forward(at::silu(linear_1_.forward(x)));
}

TextEmbedder::TextEmbedder(int64_t in, int64_t dim)
    : linear_1_(child<nn::Linear>("linear_1", in, dim)),
      linear_2_(child<nn::Linear>("linear_2", dim, dim)) {}

at::Tensor TextEmbedder::forward(const at::Tensor& x) const {
    return linear_2_.forward(at::gelu(linear_1_.forward(x), "tanh"));
}

ImageEmbedder::ImageEmbedder(int64_t in, int64_t dim, int64_t pos_embed_seq_len)
    : norm1_(
          child<nn::LayerNorm>("norm1", nn::LayerNormOptions{in, 1e-5, true, true, /*fp32=*/true})),
      ff_(child<nn::FeedForward>("ff", image_ff(in, dim))),
      norm2_(child<nn::LayerNorm>("norm2",
                                  nn::LayerNormOptions{dim, 1e-5, true, true, /*fp32=*/true})) {
    if (pos_embed_seq_len > 0) pos_embed_ = &param("pos_embed", {1, pos_embed_seq_len, in});
}

at::Tensor ImageEmbedder::forward(const at::Tensor& x) const {
    at::Tensor h = x;
    if (pos_embed_) {
        const int64_t n = x.size(1);
        if (pos_embed_->size(1) != 2 * n || x.size(0) % 2 != 0)
            throw Error(ErrorCode::Config, "Wan image embedder: pos_embed covers " +
                                               std::to_string(pos_embed_->size(1)) +
                                               " tokens, which must be two images (first and last "
                                               "frame, stacked on the batch axis) of " +
                                               std::to_string(n) + " tokens; pass [2B, " +
                                               std::to_string(pos_embed_->size(1) / 2) +
                                               ", C] image embeddings");
        h = x.reshape({-1, 2 * n, x.size(2)}) + *pos_embed_;
    }
    h = norm1_.forward(h);
    h = ff_.forward(h);
    return norm2_.forward(h);
}

ConditionEmbedder::ConditionEmbedder(const TransformerConfig& c)
    : freq_dim_(c.freq_dim),
      time_embedder_(child<TimeEmbedder>("time_embedder", c.freq_dim, c.inner_dim())),
      time_proj_(child<nn::Linear>("time_proj", c.inner_dim(), 6 * c.inner_dim())),
      text_embedder_(child<TextEmbedder>("text_embedder", c.text_dim, c.inner_dim())) {
    if (c.image_dim > 0)
        image_embedder_ = &child<ImageEmbedder>("image_embedder", c.image_dim, c.inner_dim(),
                                                c.pos_embed_seq_len);
}

ConditionEmbedder::Output ConditionEmbedder::forward(const at::Tensor& timestep,
                                                     const at::Tensor& context,
                                                     const std::optional<at::Tensor>& image) const {
    nn::TimestepsOptions sinusoid;
    sinusoid.num_channels = freq_dim_;
    sinusoid.flip_sin_to_cos = true;
    sinusoid.downscale_freq_shift = 0.0;
    auto freqs = nn::timestep_embedding(timestep.flatten(), sinusoid);
    if (timestep.dim() == 2) freqs = freqs.unflatten(0, {timestep.size(0), timestep.size(1)});

    Output out;
    // The fp32 embedder's output drops to the activations' dtype before time_proj, as type_as does.
    out.temb = time_embedder_.forward(freqs).to(context.scalar_type());
    out.timestep_proj = time_proj_.forward(at::silu(out.temb));
    out.context = text_embedder_.forward(context);
    if (image) {
        if (!image_embedder_)
            throw Error(ErrorCode::Config,
                        "Wan transformer: image embeddings given but transformer/config.json has "
                        "no 'image_dim'");
        out.image_context = image_embedder_->forward(*image);
    }
    return out;
}

Transformer::Transformer(const TransformerConfig& c)
    : config_(c),
      rope_(c.attention_head_dim, c.patch_size, c.rope_max_seq_len),
      patch_embedding_(child<nn::Conv3d>(
          "patch_embedding",
          nn::Conv3dOptions{
              c.in_channels, c.inner_dim(), c.patch_size, c.patch_size, {0, 0, 0}, true})),
      condition_embedder_(child<ConditionEmbedder>("condition_embedder", c)),
      blocks_(child<nn::ModuleList<nn::DiTBlock>>("blocks")),
      norm_out_(nn::LayerNormOptions{c.inner_dim(), c.eps, /*elementwise_affine=*/false, false,
                                     /*fp32=*/true}),
      proj_out_(
          child<nn::Linear>("proj_out", c.inner_dim(),
                            c.out_channels * c.patch_size[0] * c.patch_size[1] * c.patch_size[2])),
      scale_shift_table_(param("scale_shift_table", {1, 2, c.inner_dim()}, nn::Keep::Float32)) {
    for (int64_t i = 0; i < c.num_layers; ++i) blocks_.push_back(block_options(c));
}

at::Tensor Transformer::forward(const at::Tensor& hidden_states, const at::Tensor& timestep,
                                const at::Tensor& context,
                                const std::optional<at::Tensor>& image) const {
    const auto& c = config_;
    if (hidden_states.dim() != 5 || hidden_states.size(1) != c.in_channels)
        throw Error(ErrorCode::Config, "Wan transformer: hidden_states must be [B, " +
                                           std::to_string(c.in_channels) +
                                           ", F, H, W] (in_channels of transformer/config.json)");
    const int64_t batch = hidden_states.size(0);
    const int64_t f = hidden_states.size(2) / c.patch_size[0];
    const int64_t h = hidden_states.size(3) / c.patch_size[1];
    const int64_t w = hidden_states.size(4) / c.patch_size[2];
    if (f * c.patch_size[0] != hidden_states.size(2) ||
        h * c.patch_size[1] != hidden_states.size(3) ||
        w * c.patch_size[2] != hidden_states.size(4))
        throw Error(ErrorCode::Config,
                    "Wan transformer: latent frames/height/width must be multiples of patch_size");
    if (timestep.dim() == 2 && timestep.size(1) != f * h * w)
        throw Error(ErrorCode::Config,
                    "Wan transformer: per-token timesteps need one value per patch token (" +
                        std::to_string(f * h * w) + "), got " + std::to_string(timestep.size(1)));
    if (c.added_kv_proj_dim > 0 && !image)
        throw Error(ErrorCode::Config,
                    "Wan transformer: this model (added_kv_proj_dim in transformer/config.json) "
                    "needs the CLIP image "
                    "embeddings");
    if (image && context.size(1) != kReferenceTextTokens && c.added_kv_proj_dim > 0)
        throw Error(ErrorCode::Config,
                    "Wan transformer: with image embeddings the text context must have " +
                        std::to_string(kReferenceTextTokens) +
                        " tokens (pad it as the pipeline does), got " +
                        std::to_string(context.size(1)));

    auto rope = rope_.forward(hidden_states);
    auto x = patch_embedding_.forward(hidden_states).flatten(2).transpose(1, 2).contiguous();

    auto cond = condition_embedder_.forward(timestep.to(hidden_states.device()), context, image);
    auto tproj = timestep.dim() == 2 ? cond.timestep_proj.unflatten(2, {6, -1})
                                     : cond.timestep_proj.unflatten(1, {6, -1});

    std::optional<at::Tensor> image_context = cond.image_context;
    if (c.added_kv_proj_dim == 0 && image_context) {
        // Without the added key/value branch the reference attends to image and text tokens alike.
        cond.context = at::cat({*image_context, cond.context}, 1);
        image_context.reset();
    }
    for (const auto* block : blocks_)
        x = block->forward(x, cond.context, tproj, rope, image_context);

    // Output head: shift/scale from the fp32 table plus temb, per sample or per token.
    at::Tensor shift, scale;
    if (cond.temb.dim() == 3) {
        auto m = scale_shift_table_.unsqueeze(0) + cond.temb.unsqueeze(2);  // [B, S, 2, dim]
        shift = m.select(2, 0);
        scale = m.select(2, 1);
    } else {
        auto m = scale_shift_table_ + cond.temb.unsqueeze(1);  // [B, 2, dim]
        shift = m.slice(1, 0, 1);
        scale = m.slice(1, 1, 2);
    }
    x = (norm_out_.forward(x.to(at::kFloat)) * (1 + scale) + shift).to(x.scalar_type());
    x = proj_out_.forward(x);

    const auto& p = c.patch_size;
    x = x.reshape({batch, f, h, w, p[0], p[1], p[2], -1}).permute({0, 7, 1, 4, 2, 5, 3, 6});
    return x.reshape({batch, x.size(1), f * p[0], h * p[1], w * p[2]});
}

std::unique_ptr<Transformer> Transformer::load(const std::filesystem::path& dir, at::Device device,
                                               at::ScalarType dtype) {
    auto config = TransformerConfig::from(nn::ConfigFile::load(dir / "config.json"));
    auto model = std::make_unique<Transformer>(config);
    auto reader = nn::CheckpointReader::open_component(dir);
    nn::LoadOptions options;
    options.device = device;
    options.dtype = dtype;
    // Older diffusers versions declared norm_added_q; the class lists it as ignorable.
    for (int64_t i = 0; i < config.num_layers; ++i)
        options.ignore_prefixes.push_back("blocks." + std::to_string(i) + ".attn2.norm_added_q.");
    nn::load_weights(*model, reader, options);
    return model;
}

}  // namespace vmeval::wan
