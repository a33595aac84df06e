"""Tokenizer goldens: tiny tokenizers trained on a built-in corpus and saved in the folder shapes
of the diffusers repos, with the ids and masks transformers gives for a fixed prompt list
(prompts.json: curated prompts, then seeded random ones) with padding="max_length",
truncation=True, add_special_tokens=True.

- t5, umt5: SentencePiece unigram (pad 0, eos 1, unk 2; umt5 also has byte pieces), read by
  transformers' T5Tokenizer (in transformers 5 the one class, converted from spiece.model).
- gemma: SentencePiece BPE with byte fallback, read by transformers' GemmaTokenizer (it loads
  the tiny model), padded right and left; its converted tokenizer.json is saved beside it.
- llama3, gpt2, clip, clip_files: byte-level BPE tokenizer.json files read by
  PreTrainedTokenizerFast / CLIPTokenizer; clip_files has only vocab.json + merges.txt.
- variants: tokenizer.json pipelines covering the remaining normalizers, pre-tokenizers,
  post-processors and added-token flags, over one BPE model.
"""
import json
import random
from pathlib import Path

import sentencepiece as spm
from tokenizers import (Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors,
                        trainers)


def save_json(path: Path, value) -> None:
    """Compact JSON: thousands of small ids, one per line with indentation, would be megabytes."""
    path.write_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


# Base lines of the corpus; variants below (case, digits, spacing) bring it to a few hundred.
BASE = [
    "A cat sits on the warm windowsill and watches the rain fall.",
    "The quick brown fox jumps over the lazy dog.",
    "A drone shot of a city at night, with neon lights reflecting on wet streets.",
    "Slow motion video of a hummingbird hovering near a red flower.",
    "An astronaut riding a horse on the surface of the moon, cinematic lighting.",
    "Waves crash against the rocky coast while seagulls circle overhead.",
    "A chef slices fresh vegetables in a busy restaurant kitchen.",
    "Two children laugh as they run through a field of sunflowers.",
    "Timelapse of clouds rolling over snowy mountain peaks at sunrise.",
    "A vintage car drives down an empty desert highway.",
    "don't stop, we're almost there; they'll wait, I'm sure you've seen it.",
    "It's 12:30 and the train leaves at 1:45 pm from platform 9.",
    "Call 555-0123 or visit https://example.com/videos?id=42&lang=en",
    "The price is $19.99 (or 17,50 EUR) - about 20% off!",
    "She said: \"Hello, world!\" and waved.",
    "Café au lait, crème brûlée, naïve façade, résumé, jalapeño.",
    "Ångström, Øresund, Straße, Größe, Ærø, Łódź, Škoda.",
    "Ελληνικά γράμματα και λέξεις, Русский текст и слова.",
    "日本語の文章です。東京で桜が咲いています。",
    "中文句子，北京的天气很好。我喜欢看电影。",
    "한국어 문장입니다. 서울은 아름답습니다.",
    "Emoji time 😀🎉🚀 with hearts ❤️ and flags 🇫🇷 and a family 👨‍👩‍👧.",
    "Numbers 0 1 2 3 4 5 6 7 8 9 10 100 1000 12345 3.14159 2026",
    "Tabs\tand\nnewlines\r\nand   repeated   spaces   everywhere",
    "MIXED case Words LIKE iPhone, McDonald, NASA and eBay.",
    "Punctuation!!! ??? ... --- *** ### @@@ <<< >>> [[ ]] {{ }} ~~ ^^",
    "A golden retriever puppy plays with a blue ball in the garden.",
    "Close-up of raindrops on a spider web in the early morning light.",
    "A woman in a red dress dances in the rain under a streetlight.",
    "An old man reads a newspaper on a park bench in autumn.",
    "Underwater footage of colorful fish swimming around a coral reef.",
    "A steam train crosses a stone bridge over a misty valley.",
    "Fireworks explode over the river during the festival.",
    "A cup of coffee steams on a wooden table next to an open book.",
    "Snow falls quietly on a small village with glowing windows.",
    "The robot walked slowly across the abandoned factory floor.",
    "Ice skaters glide across a frozen lake surrounded by pine trees.",
    "Hot air balloons rise over Cappadocia at dawn.",
    "Lightning strikes a lone tree in the middle of a wheat field.",
    "A skateboarder performs a kickflip in an empty swimming pool.",
]


def corpus() -> list:
    lines = []
    for i, line in enumerate(BASE):
        lines += [line, line.lower(), line.upper(), f"{i} {line} {i * 37 + 11}",
                  "  " + line.replace(" ", "  ")]
        lines.append(line.replace(".", "!").replace(",", " ,"))
    lines += ["", " ", "\t", "ok", "OK", "k"]
    return lines


CURATED = [
    "",
    " ",
    "   \t \n ",
    "a",
    "Hello world",
    "Hello   world\n\ttab",
    "  leading and trailing spaces  ",
    "12345",
    "0.5 + 1,000 = 1000.5",
    "don't DON'T won't it's we'll they're I've you'd",
    "A cat sits on the warm windowsill and watches the rain fall.",
    "MiXeD CaSe WoRdS iPhone McDonald NASA",
    "Café crème brûlée naïve façade",
    "Cafe\u0301 cre\u0300me",  # decomposed accents: NFC matters
    "Straße Größe Ærø Łódź",
    "Ελληνικά και Русский",
    "日本語の文章です。東京",
    "中文句子，北京的天气很好。",
    "한국어 문장입니다",
    "emoji 😀🎉🚀 ❤️ 🇫🇷 👨‍👩‍👧",
    "unseen symbols ☃ ♞ ∑ ∫ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ꙮ",
    "https://example.com/videos?id=42&lang=en",
    "Punctuation!!! ??? ... --- *** ###",
    "line one\nline two\r\nline three",
    "x" * 40,
    "zzzz qqqq jjjj vvvv",
    "<|endoftext|> inside text <|startoftext|>",
    "special </s> <pad> <unk> tokens <eos><bos> in text",
    "a</s>b <eos>",
    "A drone shot of a city at night, with neon lights reflecting on wet streets, " * 6,
    "Slow motion video of a hummingbird hovering near a red flower while the camera pans "
    "slowly to the left and the background blurs into a soft green bokeh, "
    "cinematic lighting, 4k, highly detailed, award winning photography.",
    "Tabs\tand\nnewlines\r\nand   repeated   spaces   everywhere",
]

# Character pools for the seeded random prompts: ties in unigram scores, runs of unknown
# characters, marks and joiners, Unicode spaces, case pairs and compatibility forms.
POOLS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "0123456789",
    " \t\n\r\u00a0\u2003\u3000",
    ".,;:!?-'\"()[]{}<>/\\|@#$%^&*_+=~`",
    "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿÀÉÎÕÜßœŒ\u0301\u0308",
    "αβγδεζηθΣσςΩωабвгдежзийклмнопрстуфхцчшщъыьэюяЖЯ",
    "日本語文章東京桜中文句子北京天气한국어문장",
    "😀🎉🚀❤\ufe0f👨\u200d👩🇫🇷✨🔥",
    "ﬁﬂⅫ²³½ｆｕｌ①☃♞∑∫",
]


def random_prompts(count: int) -> list:
    rng = random.Random(1234)
    words = " ".join(BASE).split()
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 12)):
            if rng.random() < 0.5:
                word = rng.choice(words)
                parts.append(word.upper() if rng.random() < 0.2 else word)
            else:
                pool = rng.choice(POOLS)
                parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 6))))
            parts.append(rng.choice([" ", " ", " ", "", "  ", "\n", "\t", "---", "..."]))
        out.append("".join(parts))
    return out


PROMPTS = CURATED + random_prompts(120)


def write_corpus(path: Path) -> None:
    path.write_text("\n".join(line for line in corpus() if line.strip()) + "\n", encoding="utf-8")


def encode_all(tok, max_length: int, **kwargs) -> dict:
    out = {"max_length": max_length, "ids": [], "mask": []}
    for p in PROMPTS:
        enc = tok(p, padding="max_length", max_length=max_length, truncation=True,
                  add_special_tokens=True, **kwargs)
        out["ids"].append(list(enc["input_ids"]))
        out["mask"].append(list(enc["attention_mask"]))
    return out


def train_spm(prefix: Path, text: Path, **kwargs) -> None:
    spm.SentencePieceTrainer.train(
        input=str(text), model_prefix=str(prefix), num_threads=1, minloglevel=2, **kwargs)
    # Debian's 0.1.97 reads the same protobuf; keep only the model.
    Path(str(prefix) + ".vocab").unlink()


def t5_like(out: Path, text: Path) -> None:
    from transformers import T5Tokenizer

    folder = out / "t5" / "tokenizer"
    folder.mkdir(parents=True)
    train_spm(folder / "spiece", text, model_type="unigram", vocab_size=400, character_coverage=1.0,
              pad_id=0, eos_id=1, unk_id=2, bos_id=-1, hard_vocab_limit=False)
    tok = T5Tokenizer.from_pretrained(folder)
    save_json(out / "t5.json", {"class": type(tok).__name__, **encode_all(tok, 64)})


def umt5_like(out: Path, text: Path) -> None:
    """Unigram trained with byte fallback and partial character coverage, as umT5 is. transformers'
    T5 tokenizer drops the byte fallback, so unknown characters come out as <unk>."""
    from transformers import T5Tokenizer

    folder = out / "umt5" / "tokenizer"
    folder.mkdir(parents=True)
    train_spm(folder / "spiece", text, model_type="unigram", vocab_size=700, character_coverage=0.98,
              byte_fallback=True, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, hard_vocab_limit=False)
    tok = T5Tokenizer.from_pretrained(folder)
    save_json(out / "umt5.json", {"class": type(tok).__name__, **encode_all(tok, 64)})


def gemma_like(out: Path, text: Path) -> None:
    from transformers import GemmaTokenizer

    folder = out / "gemma" / "tokenizer"
    folder.mkdir(parents=True)
    train_spm(folder / "tokenizer", text, model_type="bpe", vocab_size=600, character_coverage=0.98,
              pad_id=0, eos_id=1, bos_id=2, unk_id=3, pad_piece="<pad>", eos_piece="<eos>",
              bos_piece="<bos>", unk_piece="<unk>", byte_fallback=True,
              normalization_rule_name="identity", add_dummy_prefix=False,
              remove_extra_whitespaces=False, split_digits=True, allow_whitespace_only_pieces=True)
    tok = GemmaTokenizer.from_pretrained(folder, add_bos_token=True)
    # Gemma repos ship the converted tokenizer.json beside tokenizer.model; BpeTokenizer reads it.
    tok.save_pretrained(folder)
    right = encode_all(tok, 64, padding_side="right")
    left = encode_all(tok, 64, padding_side="left")
    save_json(out / "gemma.json", {"class": type(tok).__name__, "right": right, "left": left})


LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def save_fast(folder: Path, backend: Tokenizer, **special):
    """Wraps a tokenizers pipeline the way a hub repo ships it (tokenizer.json plus
    tokenizer_config.json naming the special tokens) and reloads it from disk."""
    from transformers import PreTrainedTokenizerFast

    PreTrainedTokenizerFast(tokenizer_object=backend, **special).save_pretrained(folder)
    return PreTrainedTokenizerFast.from_pretrained(folder)


def string_merges(folder: Path, cls=None):
    """Rewrites tokenizer.json's merges in the older "a b" form (older hub repos such as CLIP's
    ship it) and reloads the tokenizer from the rewritten file."""
    from transformers import PreTrainedTokenizerFast

    path = folder / "tokenizer.json"
    spec = json.loads(path.read_text(encoding="utf-8"))
    spec["model"]["merges"] = [" ".join(pair) for pair in spec["model"]["merges"]]
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return (cls or PreTrainedTokenizerFast).from_pretrained(folder)


def llama3_like(out: Path, text: Path) -> None:
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|finetune_right_pad_id|>"]
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.train([str(text)], trainers.BpeTrainer(vocab_size=500, show_progress=False, special_tokens=specials,
                                               initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(
            single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B",
            special_tokens=[("<|begin_of_text|>", tok.token_to_id("<|begin_of_text|>"))]),
    ])
    folder = out / "llama3" / "tokenizer"
    fast = save_fast(folder, tok, bos_token=specials[0], eos_token=specials[1], pad_token=specials[2])
    save_json(out / "llama3.json", {"class": type(fast).__name__, **encode_all(fast, 64)})


def gpt2_like(out: Path, text: Path) -> None:
    """GPT-2 shape: the ByteLevel pre-tokenizer's own regex with a prefix space, an eos template,
    and merges stored in the older "a b" string form."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.train([str(text)], trainers.BpeTrainer(vocab_size=450, show_progress=False,
                                               special_tokens=["<|endoftext|>"],
                                               initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.post_processor = processors.TemplateProcessing(
        single="$A <|endoftext|>", special_tokens=[("<|endoftext|>", tok.token_to_id("<|endoftext|>"))])
    folder = out / "gpt2" / "tokenizer"
    save_fast(folder, tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    fast = string_merges(folder)
    save_json(out / "gpt2.json", {"class": type(fast).__name__, **encode_all(fast, 64)})


def clip_like(out: Path, text: Path) -> None:
    """CLIP: train a BPE with the </w> suffix on CLIP's own pipeline, then let transformers'
    CLIPTokenizer build the tokenizer.json a hub repo ships."""
    from transformers import CLIPTokenizer

    ref = CLIPTokenizer()
    tok = Tokenizer(models.BPE(end_of_word_suffix="</w>"))
    tok.normalizer = ref.backend_tokenizer.normalizer
    tok.pre_tokenizer = ref.backend_tokenizer.pre_tokenizer
    tok.train([str(text)], trainers.BpeTrainer(vocab_size=600, show_progress=False, end_of_word_suffix="</w>",
                                               special_tokens=["<|startoftext|>", "<|endoftext|>"],
                                               initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    spec = json.loads(tok.to_str())
    merges = [tuple(pair) for pair in spec["model"]["merges"]]
    folder = out / "clip" / "tokenizer"
    CLIPTokenizer(vocab=spec["model"]["vocab"], merges=merges).save_pretrained(folder)
    fast = string_merges(folder, CLIPTokenizer)
    save_json(out / "clip.json", {"class": type(fast).__name__, **encode_all(fast, 77)})

    # The same tokenizer as HunyuanVideo's tokenizer_2 ships it: vocab.json + merges.txt only.
    files = out / "clip_files" / "tokenizer"
    files.mkdir(parents=True)
    vocab_text = json.dumps(spec["model"]["vocab"], ensure_ascii=False)
    (files / "vocab.json").write_text(vocab_text, encoding="utf-8")
    merges_text = "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges)
    (files / "merges.txt").write_text(merges_text, encoding="utf-8")
    (files / "tokenizer_config.json").write_text((folder / "tokenizer_config.json").read_text())
    from_files = CLIPTokenizer.from_pretrained(files)
    save_json(out / "clip_files.json", {"class": type(from_files).__name__, **encode_all(from_files, 77)})


# Prompts for the pipeline variants: added tokens with lstrip/rstrip/single_word/normalized.
VARIANT_PROMPTS = PROMPTS + [
    "a <mask> b",
    "x<mask>y  <mask>  end",
    "cat concat cats cat. (cat)",
    "The <NORM> and <norm> and <Norm>",
    "ﬁne ﬂour Ⅻ ² ｆｕｌｌｗｉｄｔｈ",
    "ΟΔΥΣΣΕΥΣ İstanbul ǅemal ẞ",
    "nbsp\u00a0em\u2003ideographic\u3000nel\u0085end",
]

SPLIT_BEHAVIORS = ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]


def variants(out: Path, text: Path) -> None:
    """Pipelines hub repos rarely combine but tokenizer.json allows: every Split behaviour, string
    patterns, invert, Whitespace/WhitespaceSplit/Digits, the normal forms, Strip/Prepend/Replace,
    BertProcessing, and added tokens with lstrip/rstrip/single_word/normalized, all over one BPE."""
    from tokenizers import AddedToken

    specials = ["<bos>", "<eos>", "<pad>"]
    base = Tokenizer(models.BPE())
    base.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    base.train([str(text)], trainers.BpeTrainer(vocab_size=450, show_progress=False, special_tokens=specials,
                                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    spec = base.to_str()
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    punct = Regex(r"[\s\p{P}]")

    def build(normalizer=None, pre=None, post=None, added=()):
        tok = Tokenizer.from_str(spec)
        tok.normalizer = normalizer
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre, byte_level]) if pre is not None else byte_level
        if post is not None:
            tok.post_processor = post
        tok.add_tokens(list(added))
        return tok

    pipelines = {f"split_{b}": build(pre=pre_tokenizers.Split(punct, behavior=b)) for b in SPLIT_BEHAVIORS}
    pipelines["split_string_invert"] = build(pre=pre_tokenizers.Split(" ", behavior="removed", invert=True))
    pipelines["normalizers"] = build(
        normalizer=normalizers.Sequence([normalizers.NFKD(), normalizers.Lowercase(), normalizers.Strip(),
                                         normalizers.Replace("e", "E"), normalizers.Prepend("_"),
                                         normalizers.NFC()]),
        pre=pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                     pre_tokenizers.Digits(individual_digits=True)]))
    pipelines["nfkc_whitespace_bert"] = build(
        normalizer=normalizers.NFKC(), pre=pre_tokenizers.Sequence([pre_tokenizers.Whitespace(),
                                                                     pre_tokenizers.Digits()]),
        post=processors.BertProcessing(("<eos>", base.token_to_id("<eos>")),
                                       ("<bos>", base.token_to_id("<bos>"))))
    pipelines["added_tokens"] = build(
        normalizer=normalizers.Lowercase(),
        added=[AddedToken("<mask>", lstrip=True, rstrip=True, normalized=False, special=True),
               AddedToken("cat", single_word=True, normalized=False),
               AddedToken("<norm>", normalized=True)])
    results = {"prompts": VARIANT_PROMPTS}
    for name, tok in pipelines.items():
        fast = save_fast(out / "variants" / name, tok, bos_token="<bos>", eos_token="<eos>",
                         pad_token="<pad>")
        enc = {"max_length": 64, "ids": [], "mask": []}
        for prompt in VARIANT_PROMPTS:
            e = fast(prompt, padding="max_length", max_length=64, truncation=True, add_special_tokens=True)
            enc["ids"].append(list(e["input_ids"]))
            enc["mask"].append(list(e["attention_mask"]))
        results[name] = enc
    save_json(out / "variants.json", results)


def generate(out: Path) -> None:
    text = out / "corpus.txt"
    write_corpus(text)
    t5_like(out, text)
    umt5_like(out, text)
    gemma_like(out, text)
    llama3_like(out, text)
    gpt2_like(out, text)
    clip_like(out, text)
    variants(out, text)
    save_json(out / "prompts.json", PROMPTS)
    text.unlink()
