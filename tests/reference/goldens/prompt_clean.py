"""Wan prompt cleaning golden: diffusers' prompt_clean (ftfy.fix_text, html.unescape twice,
whitespace collapse) over a fixed corpus of prompt pieces, seeded random mixtures of them, and
seeded mojibake (UTF-8 text read through the wrong codec, some of it twice or with lost bytes).

cases.json: {"cases": [{"input", "expected", "fix_text", "html_unescape", "mojibake"}]}:
"fix_text" is ftfy.fix_text alone and "html_unescape" html.unescape alone, so each piece is
checked on its own too; "mojibake" says whether ftfy's fix_encoding changes fix_text's result,
so the test can check that the corpus keeps exercising it.
"""
import html
import json
import random
from pathlib import Path

import ftfy
from diffusers.pipelines.wan.pipeline_wan_i2v import prompt_clean

WAN_NEGATIVE = (
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
    "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，"
    "手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走"
)

PROMPTS = [
    "A cat walks on the grass, realistic",
    "An astronaut hatching from an egg, on the surface of the moon, the darkness and depth of space "
    "realised in the background. High quality, ultrarealistic detail and breath-taking movie-like "
    "camera shot.",
    "Two anthropomorphic cats in comfy boxing gear and bright gloves fight intensely on a "
    "spotlighted stage.",
    "A drone shot of a city at night, with neon lights reflecting on wet streets.",
    "Summer beach vacation style, a white cat wearing sunglasses sits on a surfboard.",
    WAN_NEGATIVE,
    "Bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, "
    "images, static, overall gray, worst quality, low quality, JPEG compression residue, ugly",
    "一只可爱的小猫在草地上奔跑，阳光明媚，电影质感。",
    "日本語の文章です。東京で桜が咲いています。",
    "Café au lait, crème brûlée, naïve façade, résumé, jalapeño. Ångström, Straße, Łódź.",
    "Ελληνικά γράμματα και λέξεις, Русский текст и слова, עברית, العربية, हिन्दी",
    "A dog 🐶 plays with a ball ⚽ in the park 🌳, family 👨‍👩‍👧 and flag 🏴󠁧󠁢󠁷󠁬󠁳󠁿",
]

# Pieces the random mixtures draw from: each exercises one step of the cleaning.
PIECES = [
    # plain words and whitespace of every kind Python's \s knows
    "a red fox", "in the snow", "cinematic", "4K", "slow motion", " ", "  ", "\t", "\n", "\r\n",
    "\r", "\x0b", "\x0c", "\xa0", "\u3000", "\u2002", "\u2009", "\u202f", "\u205f", "\u1680",
    "\u2028", "\u2029", "\x1c", "\x1f",
    # quotes, apostrophes, ligatures, fullwidth and halfwidth forms
    "\u201chello\u201d", "\u2018it\u2019s\u2019", "\u201e\u201f\u201b", "\u02bcn", "don\u2019t",
    "\ufb00", "\ufb01sh", "\ufb02ow", "o\ufb03ce", "\ufb04", "\ufb05", "\ufb06", "\u0133", "\u0132",
    "\u0149", "\u01c4\u01c5\u01c6", "\u01f1\u01f2\u01f3", "\u01c7\u01c8\u01c9\u01ca\u01cb\u01cc",
    "\uff2c\uff2f\uff35\uff24\u3000\uff2e\uff2f\uff29\uff33\uff25\uff33", "\uff11\uff12\uff13",
    "\uff35\uff80\uff70\uff9d", "\uff76\uff9e", "\uffe0\uffe1\uffe5\uffe6\uffe8\uffed",
    "\uff01\uff1f\uff08\uff09\uff02\uff07",
    # controls: C0 (kept and removed), DEL, C1 (read as cp1252), bidi and BOM, ANSI colours
    "\x00", "\x01", "\x08", "\x1b", "\x7f", "\x80", "\x81", "\x85", "\x8d", "\x91\x92", "\x93",
    "\x94", "\x96", "\x9f", "\u200b", "\u200d", "\u200e", "\u202e", "\u206a", "\ufeff",
    "\ufff9", "\ufffc", "\ufffd", "\x1b[36;44mblue\x1b[0m", "\x1b[1m", "\x1b[;m", "\x1b[12",
    "\x1b[\u0663m",
    # combining marks (NFC), Hangul jamo, other scripts, emoji
    "e\u0301", "A\u030a", "\u1100\u1161\u11a8", "\u0928\u093f", "\u1e9b\u0323", "\u212b",
    "\u2126", "\u00c5", "色调艳丽", "细节模糊不清，", "，", "。", "😀", "👍🏽", "🇯🇵", "\U0001f3f4",
    # HTML: named with and without ';', longest-prefix names, case, numeric and invalid ones
    "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&nbsp;", "&copy;", "&eacute;", "&Eacute;",
    "&EACUTE;", "&SZLIG;", "&szlig;", "&ntilde;", "&NTILDE;", "&nTILDE;", "&hellip;",
    "&mdash;", "&rsquo;", "&ldquo;", "&rdquo;", "&amp", "&lt", "&copy", "&not", "&notit;",
    "&notin;", "&ampfoo", "&ampé", "&amp;lt;", "&amp;amp;lt;", "&amp;#39;", "&lt;b&gt;",
    "&Jscr;", "&HilbertSpace;", "&checkmark;", "&NotNestedGreaterGreater;", "&fjlig;",
    "&bogus;", "&xyz", "&", "&;", "& ", "&#", "&#;", "&#x;", "&#39;", "&#039;", "&#x27;",
    "&#X27;", "&#x2019;", "&#8217;", "&#65", "&#x41", "&#x41g", "&#0;", "&#13;", "&#128;",
    "&#129;", "&#150;", "&#x80;", "&#x9f;", "&#1;", "&#11;", "&#127;", "&#xd800;", "&#xDFFF;",
    "&#x110000;", "&#99999999999999999999;", "&#xfdd0;", "&#xFFFE;", "&#x10FFFF;",
    "&#x1F600;", "&#128512;", "&#59;", "&#12abc;", "&#x41;&#x42;", "&#abc;",
    "&abcdefghijklmnopqrstuvwxyzabcdefghij;", "&" + "a" * 25 + ";", "&\u00e9acute;",
    "&am\u00e9", "&lt\r", "&gt\tx", "\u0026amp;amp;", "&AMP;", "&AMP", "&LT;", "&ouml;",
    "&OUML;", "&Ouml;", "&ccedil;", "&CCEDIL;", "&zwnj;", "&ZWNJ;", "&shy;", "&Tab;", "&NewLine;",
    # '<' switches ftfy's unescaping off (for the rest of the text)
    "<b>bold</b>", "a < b", "<",
]

# Mojibake examples from ftfy's documentation and tests of its kind.
MOJIBAKE = [
    "cafÃ©", "â€œquotedâ€\x9d", "The Mona Lisa doesnâ€™t have eyebrows.", "Ã  la mode",
    "sÃ³", "voilÃ le travail", "âœ” No problems", "&macr;\\_(ã\x83\x84)_/&macr;",
    "â€œ like this â€\ufffd", "Ã¢â‚¬Å“doubleÃ¢â‚¬Â\x9d", "Ð¿Ñ€Ð¸Ð²ÐµÑ‚", "Ã\xa0 bientÃ´t",
]

# Words whose UTF-8 the mojibake generator mis-decodes.
WORDS = [
    "café", "naïve", "crème brûlée", "“quoted”", "it’s", "—", "…", "€5", "Straße", "Łódź",
    "Ελληνικά", "Русский", "日本語", "色调艳丽", "😀", "👍🏽", "à la mode", "São Paulo", "ñ", "©®™",
    "°C", "½", "\xa0", "•", "Ä", "ß", "ç", "œ", "š", "ğ", "ı", "ą", "ł", "ő", "ř", "א", "ع", "한국어",
    "ツ", "¯\\_(ツ)_/¯",
]
ENCODINGS = ["latin-1", "windows-1252", "windows-1251", "windows-1250", "windows-1253",
             "windows-1254", "windows-1257", "iso-8859-2", "macroman", "cp437"]


def mojibake(rng: random.Random, text: str) -> str:
    """text's UTF-8 read through a wrong codec: sometimes with 0xA0 turned into a space, with
    undecodable bytes lost (U+FFFD), or mis-decoded twice."""
    data = text.encode("utf-8")
    if rng.random() < 0.1:
        data = data.replace(b"\xa0", b" ")
    out = data.decode(rng.choice(ENCODINGS), errors="replace")
    return mojibake(rng, out) if rng.random() < 0.1 else out


def corpus() -> list:
    texts = list(PROMPTS) + list(PIECES) + list(MOJIBAKE)
    texts += [f"  {p}  " for p in PROMPTS[:4]]
    texts += ["", " ", "\n\n", "\t \r\n \u3000", "line one\nline two\r\nline three\rfour"]
    texts += ["<p>x &amp; y</p>\n&amp; z", "&amp; z\n<p>x &amp; y</p>\n&lt; w", "a&amp;b\nc<d\ne&amp;f"]
    rng = random.Random(20240611)
    for _ in range(400):
        n = rng.randint(1, 12)
        texts.append("".join(rng.choice(PIECES + PROMPTS[:3]) for _ in range(n)))
    # Many separators in a row, and joined without spaces, to stress the longest-prefix rule.
    for _ in range(40):
        texts.append("".join(rng.choice(PIECES[-80:]) for _ in range(rng.randint(2, 8))))
    # Mojibake words among clean ones and plain separators.
    for _ in range(200):
        words = [rng.choice(WORDS) if rng.random() < 0.6 else rng.choice(PIECES[:5])
                 for _ in range(rng.randint(1, 8))]
        texts.append("".join(mojibake(rng, w) if rng.random() < 0.5 else w for w in words))
    return texts


def generate(out: Path) -> None:
    cases = []
    for text in corpus():
        fixed = ftfy.fix_text(text)
        cases.append({"input": text, "expected": prompt_clean(text), "fix_text": fixed,
                      "html_unescape": html.unescape(text),
                      "mojibake": fixed != ftfy.fix_text(text, fix_encoding=False)})
    (out / "cases.json").write_text(json.dumps({"cases": cases}, ensure_ascii=True, indent=0))
