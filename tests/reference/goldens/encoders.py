"""Encoder goldens: tiny T5 v1.1 and umT5 encoders and tiny CLIP vision encoders built with the real
transformers classes, saved as diffusers-style component folders, with fixed inputs and outputs.

Layout under OUT:
  t5/text_encoder/              T5EncoderModel (bias in layer 0 only), one safetensors file
  t5_tied/{embed_tokens_only,both_names}/  the t5 weights under the other tied-embedding names
  t5_with_decoder/text_encoder/ a whole T5Model: the decoder keys must be reported by the loader
  umt5/text_encoder/            UMT5EncoderModel (bias in every layer), sharded
  clip/image_encoder/           CLIPVisionModelWithProjection, quick_gelu (SVD style)
  clip/feature_extractor/       CLIPImageProcessor config
  clip_wan/image_encoder/       CLIPVisionModel, gelu, no projection (Wan 2.1 style), in the
                                transformers 4 layout real checkpoints have
  clip_wan_v5/image_encoder/    the same model as transformers 5 saves it
  *.safetensors                 inputs and reference outputs
"""
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import (
    CLIPImageProcessor,
    CLIPVisionConfig,
    CLIPVisionModel,
    CLIPVisionModelWithProjection,
    T5Config,
    T5EncoderModel,
    T5Model,
    UMT5Config,
    UMT5EncoderModel,
)

from ._common import randomize, save_tensors, seed

SEQ = 24  # long enough that distances past max_exact use the logarithmic buckets


def text_inputs(vocab: int):
    gen = torch.Generator().manual_seed(3)
    ids = torch.randint(2, vocab, (2, SEQ), generator=gen)
    mask = torch.ones(2, SEQ, dtype=torch.long)
    ids[1, 15:] = 0  # right padding, as the T5 tokenizers produce
    mask[1, 15:] = 0
    return ids, mask


def t5_config(vocab: int, **extra) -> dict:
    return dict(vocab_size=vocab, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                feed_forward_proj="gated-gelu", tie_word_embeddings=False, dropout_rate=0.0, **extra)


def t5_goldens(out: Path) -> None:
    config = T5Config(**t5_config(100))
    model = randomize(T5EncoderModel(config), std=0.3, seed_value=10).eval()
    model.save_pretrained(out / "t5" / "text_encoder", safe_serialization=True)
    ids, mask = text_inputs(100)
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
        # Without a mask every key is attended, padding included (CogVideoX runs this way).
        unmasked = model(input_ids=ids).last_hidden_state
        bf16 = model.to(torch.bfloat16)(input_ids=ids, attention_mask=mask).last_hidden_state.float()
    save_tensors(out / "t5_io.safetensors", {"input_ids": ids, "attention_mask": mask,
                                             "last_hidden_state": hidden, "unmasked": unmasked,
                                             "last_hidden_state_bf16": bf16})
    # The token table is tied: checkpoints hold "shared.weight", "encoder.embed_tokens.weight" or both.
    weights = load_file(str(out / "t5" / "text_encoder" / "model.safetensors"))
    for name, keys in (("embed_tokens_only", ["encoder.embed_tokens.weight"]),
                       ("both_names", ["shared.weight", "encoder.embed_tokens.weight"])):
        folder = out / "t5_tied" / name
        folder.mkdir(parents=True)
        renamed = {k: v for k, v in weights.items() if k != "shared.weight"}
        renamed.update({k: weights["shared.weight"].clone() for k in keys})
        save_file(renamed, str(folder / "model.safetensors"), metadata={"format": "pt"})
        shutil.copy(out / "t5" / "text_encoder" / "config.json", folder / "config.json")
    full = randomize(T5Model(T5Config(**t5_config(100))), std=0.3, seed_value=11)
    full.save_pretrained(out / "t5_with_decoder" / "text_encoder", safe_serialization=True)


def umt5_goldens(out: Path) -> None:
    # max_distance 16 < SEQ so the last bucket's clamp is exercised too.
    config = UMT5Config(**t5_config(120, relative_attention_max_distance=16))
    model = randomize(UMT5EncoderModel(config), std=0.3, seed_value=20).eval()
    model.save_pretrained(out / "umt5" / "text_encoder", safe_serialization=True, max_shard_size="40KB")
    ids, mask = text_inputs(120)
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    save_tensors(out / "umt5_io.safetensors", {"input_ids": ids, "attention_mask": mask,
                                               "last_hidden_state": hidden})


def clip_config(**extra) -> CLIPVisionConfig:
    return CLIPVisionConfig(image_size=32, patch_size=8, num_hidden_layers=2, hidden_size=32,
                            num_attention_heads=4, intermediate_size=64, projection_dim=16, **extra)


def clip_outputs(model, pixels: torch.Tensor) -> dict:
    with torch.no_grad():
        result = model(pixel_values=pixels, output_hidden_states=True)
    states = result.hidden_states
    assert len(states) == model.config.num_hidden_layers + 1, "hidden_states: embeddings + each layer"
    # clone: safetensors refuses tensors that share storage (the last state is last_hidden_state).
    tensors = {"last_hidden_state": result.last_hidden_state.clone(), "penultimate": states[-2].clone()}
    for i, h in enumerate(states):
        tensors[f"hidden_states.{i}"] = h
    if hasattr(result, "image_embeds"):
        tensors["image_embeds"] = result.image_embeds
    else:
        tensors["pooler_output"] = result.pooler_output
    return tensors


def clip_goldens(out: Path) -> None:
    gen = torch.Generator().manual_seed(4)
    pixels = torch.randn(2, 3, 32, 32, generator=gen)

    model = randomize(CLIPVisionModelWithProjection(clip_config()), std=0.2, seed_value=30).eval()
    model.save_pretrained(out / "clip" / "image_encoder", safe_serialization=True)
    save_tensors(out / "clip_io.safetensors", {"pixel_values": pixels, **clip_outputs(model, pixels)})

    wan = randomize(CLIPVisionModel(clip_config(hidden_act="gelu")), std=0.2, seed_value=31).eval()
    wan.save_pretrained(out / "clip_wan_v5" / "image_encoder", safe_serialization=True)
    # Real CLIPVisionModel checkpoints (Wan 2.1's) were written by transformers 4, which nested the
    # tower under "vision_model." and stored the position_ids buffer; transformers 5 writes bare
    # names. Write the old layout too and check transformers still reads it to the same model.
    legacy = out / "clip_wan" / "image_encoder"
    wan.save_pretrained(legacy, safe_serialization=True)
    weights = {f"vision_model.{k}": v for k, v in load_file(str(legacy / "model.safetensors")).items()}
    weights["vision_model.embeddings.position_ids"] = torch.arange(wan.embeddings.num_positions).unsqueeze(0)
    save_file(weights, str(legacy / "model.safetensors"), metadata={"format": "pt"})
    reread = CLIPVisionModel.from_pretrained(legacy).eval()
    outputs = clip_outputs(wan, pixels)
    assert torch.equal(clip_outputs(reread, pixels)["penultimate"], outputs["penultimate"])
    save_tensors(out / "clip_wan_io.safetensors", {"pixel_values": pixels, **outputs})

    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor.save_pretrained(out / "clip" / "feature_extractor")
    smooth = torch.nn.functional.interpolate(torch.rand(1, 3, 9, 12, generator=gen), size=(45, 60),
                                             mode="bilinear", align_corners=False)
    landscape = (smooth[0].permute(1, 2, 0) * 255).round().to(torch.uint8)
    # Already at the target short side: resizing is the identity, so crop + normalize are exact.
    exact = (torch.rand(40, 32, 3, generator=gen) * 255).round().to(torch.uint8)
    tensors = {"landscape": landscape, "exact": exact}
    for name, image in list(tensors.items()):
        tensors[f"{name}_pixel_values"] = processor(images=np.asarray(image), return_tensors="pt")["pixel_values"]
    save_tensors(out / "clip_preprocess.safetensors", tensors)


def generate(out: Path) -> None:
    seed(0)
    t5_goldens(out)
    umt5_goldens(out)
    clip_goldens(out)
