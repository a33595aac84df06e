// The model catalog: one table, in display order (baselines first, then the original's families).
// Defaults are what vmeval sends or runs; where the original's effective values came from a bug,
// the row carries the intended value and says so in `notes` (docs/models.md mirrors this table).
#include <string_view>
#include <vector>

#include "vmeval/registry/registry.hpp"

namespace vmeval::registry {

namespace {

// Family names are display strings and resolve() matches them, so each is spelled once.
constexpr const char* kBaselines = "Baselines";
constexpr const char* kLuma = "Luma Dream Machine";
constexpr const char* kVeo = "Google Veo";
constexpr const char* kKling = "Kling";
constexpr const char* kSora = "OpenAI Sora";
constexpr const char* kRunway = "Runway ML";
constexpr const char* kLtx = "LTX-Video";
constexpr const char* kHunyuan = "HunyuanVideo";
constexpr const char* kVideoCrafter = "VideoCrafter";
constexpr const char* kDynamiCrafter = "DynamiCrafter";
constexpr const char* kMorphic = "Morphic";
constexpr const char* kSvd = "Stable Video Diffusion";
constexpr const char* kWan = "WAN (Wan-AI)";
constexpr const char* kCogVideoX = "CogVideoX";
constexpr const char* kSana = "SANA-Video";

constexpr const char* kLumaEnv = "LUMA_API_KEY";
constexpr const char* kVeoEnv = "GEMINI_API_KEY";
constexpr const char* kKlingEnv = "KLING_ACCESS_KEY KLING_SECRET_KEY";
constexpr const char* kSoraEnv = "OPENAI_API_KEY";
constexpr const char* kRunwayEnv = "RUNWAYML_API_SECRET";

// Shared notes, so that rows of one family cannot drift apart.
constexpr const char* kBaselineNote = "vmeval's own reference model; not in the original.";
constexpr const char* kLumaNote =
    "Luma only fetches the first frame from a public URL, so it also needs an image host, whose "
    "settings are optional and not listed here; the original always required AWS keys. "
    "Asks for 5 s at 720p; the original sent neither and took the server's defaults.";
constexpr const char* kVeoNote =
    "Sends durationSeconds; the original validated the duration but never sent it.";
constexpr const char* kKlingNote =
    "New in vmeval (not in the original). Sends mode std and duration \"5\"; Kling takes no "
    "aspect ratio for image-to-video, so the output follows the input image.";
constexpr const char* kSoraNote =
    "Same request as the original (1280x720, 8 s; 720x1280 for portrait inputs). OpenAI shut the "
    "Videos API down on 2026-09-24: runs against the real API now end with that message.";
constexpr const char* kDynamiCrafterNote =
    "Original lvdm checkpoint (model.ckpt, a pickled PyTorch file), not diffusers format.";
constexpr const char* kWanAreaNote =
    "Width x height is an area budget: the output keeps the input's aspect ratio.";

}  // namespace

const std::vector<ModelInfo>& all_models() {
    // Function-local so that other static initializers may call all_models() safely.
    // Defaults: {width, height, frames, fps, duration_s, steps, guidance}; 0 = not applicable.
    static const std::vector<ModelInfo> table = {
        // Baselines: width/height 0 = the input image's size.
        {"baseline-still", kBaselines, Kind::Baseline, Backend::Baseline, "",
         "The first frame held still for the whole clip: the 'nothing moved' yardstick", "", "",
         {0, 0, 16, 8, 2.0, 0, 0}, kBaselineNote},
        {"baseline-crossfade", kBaselines, Kind::Baseline, Backend::Baseline, "",
         "The first frame blending into final_frame.png: the 'just fade to the answer' yardstick",
         "", "", {0, 0, 16, 8, 2.0, 0, 0}, kBaselineNote},

        // Luma Dream Machine
        {"luma-ray-2", kLuma, Kind::Api, Backend::Luma, "ray-2",
         "Luma Ray 2, Luma's flagship image+text to video model", kLumaEnv, "",
         {1280, 720, 0, 0, 5.0, 0, 0}, kLumaNote},
        {"luma-ray-flash-2", kLuma, Kind::Api, Backend::Luma, "ray-flash-2",
         "Luma Ray Flash 2, a faster and cheaper Ray 2", kLumaEnv, "",
         {1280, 720, 0, 0, 5.0, 0, 0}, kLumaNote},

        // Google Veo (Gemini API ids; Vertex AI ids differ)
        {"veo-2", kVeo, Kind::Api, Backend::Veo, "veo-2.0-generate-001",
         "Google Veo 2 through the Gemini API", kVeoEnv, "", {1280, 720, 0, 0, 8.0, 0, 0},
         "Sends durationSeconds (Veo 2 takes 5-8 s); the original validated the duration but "
         "never sent it."},
        {"veo-2.0-generate", kVeo, Kind::Api, Backend::Veo, "veo-2.0-generate-001",
         "Google Veo 2 through the Gemini API (same model as veo-2)", kVeoEnv, "",
         {1280, 720, 0, 0, 8.0, 0, 0},
         "Same model as veo-2, kept because the original lists both. Sends durationSeconds "
         "(5-8 s); the original never sent it."},
        {"veo-3.0-generate", kVeo, Kind::Api, Backend::Veo, "veo-3.0-generate-001",
         "Google Veo 3 through the Gemini API, with generated audio", kVeoEnv, "",
         {1280, 720, 0, 0, 8.0, 0, 0}, kVeoNote},
        {"veo-3.0-fast-generate", kVeo, Kind::Api, Backend::Veo, "veo-3.0-fast-generate-001",
         "Google Veo 3 Fast, a quicker and cheaper Veo 3", kVeoEnv, "",
         {1280, 720, 0, 0, 8.0, 0, 0}, kVeoNote},
        {"veo-3.1-generate", kVeo, Kind::Api, Backend::Veo, "veo-3.1-generate-preview",
         "Google Veo 3.1 (preview) through the Gemini API", kVeoEnv, "",
         {1280, 720, 0, 0, 8.0, 0, 0},
         "Uses veo-3.1-generate-preview: the original's veo-3.1-generate-001 is a Vertex AI id "
         "that the Gemini API answers with 404. Sends durationSeconds, which the original never "
         "sent."},

        // Kling (new in vmeval)
        {"kling-v2.1", kKling, Kind::Api, Backend::Kling, "kling-v2-1",
         "Kling 2.1 image-to-video in standard (720p) mode", kKlingEnv, "",
         {0, 0, 0, 24, 5.0, 0, 0}, kKlingNote},
        {"kling-v2.1-master", kKling, Kind::Api, Backend::Kling, "kling-v2-1-master",
         "Kling 2.1 Master, Kling's top-quality 1080p tier", kKlingEnv, "",
         {0, 0, 0, 24, 5.0, 0, 0},
         "New in vmeval (not in the original). Always 1080p: Kling has no std/pro split for "
         "this model. Output follows the input image's aspect ratio."},
        {"kling-v2.5-turbo", kKling, Kind::Api, Backend::Kling, "kling-v2-5-turbo",
         "Kling 2.5 Turbo, faster Kling generation", kKlingEnv, "", {0, 0, 0, 24, 5.0, 0, 0},
         "New in vmeval (not in the original). Sends mode std and duration \"5\"; Kling's own "
         "documentation disagrees on whether this model serves std mode or only pro."},

        // OpenAI Sora
        {"openai-sora-2", kSora, Kind::Api, Backend::Sora, "sora-2",
         "OpenAI Sora 2 through the Videos API", kSoraEnv, "", {1280, 720, 0, 0, 8.0, 0, 0},
         kSoraNote},
        {"openai-sora-2-pro", kSora, Kind::Api, Backend::Sora, "sora-2-pro",
         "OpenAI Sora 2 Pro, the higher-fidelity Sora", kSoraEnv, "",
         {1280, 720, 0, 0, 8.0, 0, 0}, kSoraNote},

        // Runway ML
        {"runway-gen4-turbo", kRunway, Kind::Api, Backend::Runway, "gen4_turbo",
         "Runway Gen-4 Turbo image-to-video", kRunwayEnv, "", {1280, 720, 0, 0, 5.0, 0, 0}, ""},
        {"runway-gen4-aleph", kRunway, Kind::Api, Backend::Runway, "gen4_aleph",
         "Runway Gen-4 Aleph, a video-to-video model (see notes)", kRunwayEnv, "",
         {1280, 720, 0, 0, 5.0, 0, 0},
         "gen4_aleph is video-to-video only: Runway's image_to_video endpoint rejects it and a "
         "question has no HTTPS video to give it, so vmeval refuses it before any request (the "
         "original sent it anyway and every run failed). Kept so that existing model lists "
         "resolve; left out of all-api."},
        {"runway-gen3a-turbo", kRunway, Kind::Api, Backend::Runway, "gen3a_turbo",
         "Runway Gen-3 Alpha Turbo image-to-video", kRunwayEnv, "", {1280, 768, 0, 0, 5.0, 0, 0},
         "Runway requires a prompt for this model. It left Runway's SDK in June 2026 and may be "
         "retired."},

        // LTX-Video (Lightricks)
        {"ltx-video", kLtx, Kind::Local, Backend::LtxVideo, "Lightricks/LTX-Video",
         "LTX-Video 2B from Lightricks, a fast video DiT at 704x480", "", "Lightricks/LTX-Video",
         {704, 480, 121, 24, 5.0, 50, 3.0},
         "121 frames (the VAE needs 8k+1); the original asked for 120, which the pipeline cut "
         "to 113."},
        {"ltx-video-13b-distilled", kLtx, Kind::Local, Backend::LtxVideo,
         "Lightricks/LTX-Video-0.9.8-13B-distilled",
         "LTX-Video 0.9.8 13B, distilled for few-step sampling", "",
         "Lightricks/LTX-Video-0.9.8-13B-distilled", {704, 480, 121, 24, 5.0, 8, 1.0},
         "Distilled settings: 8 steps without classifier-free guidance; the original ran it with "
         "the 2B model's 50-step guided settings. 121 frames instead of the original's 120."},
        {"LTX-2", kLtx, Kind::Local, Backend::Ltx2, "Lightricks/LTX-2",
         "LTX-2 19B from Lightricks, a joint audio+video DiT", "", "Lightricks/LTX-2",
         {768, 512, 97, 24, 4.0, 30, 3.0},
         "Landscape 768x512: the original passed (768, 512) as height x width and made portrait "
         "video for every input."},

        // HunyuanVideo (Tencent)
        {"hunyuan-video-i2v", kHunyuan, Kind::Local, Backend::Hunyuan,
         "hunyuanvideo-community/HunyuanVideo-I2V", "Tencent HunyuanVideo-I2V 13B at 720p", "",
         "hunyuanvideo-community/HunyuanVideo-I2V", {1280, 720, 129, 24, 5.4, 50, 6.0},
         "Diffusers conversion of tencent/HunyuanVideo-I2V, run in process; the original ran "
         "Tencent's script in a subprocess. Embedded guidance 6.0 and flow shift 7.0 as in the "
         "original."},

        // VideoCrafter (AILab-CVC)
        {"videocrafter2-512", kVideoCrafter, Kind::Local, Backend::VideoCrafter,
         "VideoCrafter/Image2Video-512", "VideoCrafter image-to-video at 512x320 (see notes)", "",
         "VideoCrafter/Image2Video-512 (model.ckpt, original lvdm format, not diffusers)",
         {512, 320, 16, 8, 2.0, 50, 12.0},
         "Despite the name, the original runs VideoCrafter1's I2V 512 checkpoint (VideoCrafter2 "
         "is text-to-video only), and its setup downloaded the VideoCrafter2 checkpoint instead. "
         "It also crashed after writing each video, so reruns silently skipped those questions."},

        // DynamiCrafter (Doubiiu)
        {"dynamicrafter-256", kDynamiCrafter, Kind::Local, Backend::DynamiCrafter,
         "Doubiiu/DynamiCrafter", "DynamiCrafter image animation at 256x256", "",
         "Doubiiu/DynamiCrafter (model.ckpt, original lvdm format, not diffusers)",
         {256, 256, 16, 8, 2.0, 50, 7.5}, kDynamiCrafterNote},
        {"dynamicrafter-512", kDynamiCrafter, Kind::Local, Backend::DynamiCrafter,
         "Doubiiu/DynamiCrafter_512", "DynamiCrafter image animation at 512x320", "",
         "Doubiiu/DynamiCrafter_512 (model.ckpt, original lvdm format, not diffusers)",
         {512, 320, 16, 8, 2.0, 50, 7.5}, kDynamiCrafterNote},
        {"dynamicrafter-1024", kDynamiCrafter, Kind::Local, Backend::DynamiCrafter,
         "Doubiiu/DynamiCrafter_1024", "DynamiCrafter image animation at 1024x576", "",
         "Doubiiu/DynamiCrafter_1024 (model.ckpt, original lvdm format, not diffusers)",
         {1024, 576, 16, 8, 2.0, 50, 7.5}, kDynamiCrafterNote},

        // Morphic
        {"morphic-frames-to-video", kMorphic, Kind::Local, Backend::Morphic,
         "morphic/Wan2.2-frames-to-video",
         "Morphic's Wan 2.2 LoRA that interpolates from the first to the final frame", "",
         "morphic/Wan2.2-frames-to-video (LoRA) on Wan-AI/Wan2.2-I2V-A14B-Diffusers",
         {832, 480, 49, 16, 3.1, 40, 3.5},
         "Needs final_frame.png. 832x480 is an area budget (the original's 480*832); the output "
         "keeps the input's aspect ratio. The original's MORPHIC_* variables are not used; its "
         "env.template set MORPHIC_NPROC_PER_NODE=8, forcing 8 processes even on one GPU."},

        // Stable Video Diffusion (Stability AI)
        {"svd", kSvd, Kind::Local, Backend::Svd, "stabilityai/stable-video-diffusion-img2vid-xt",
         "Stable Video Diffusion XT, image-only animation (the prompt is ignored)", "",
         "stabilityai/stable-video-diffusion-img2vid-xt", {1024, 576, 25, 7, 3.6, 25, 3.0},
         "25 frames, the length the XT checkpoint was trained on and diffusers' default; the "
         "original asked for 35 (--param frames=35). Guidance ramps from 1.0 on the first frame "
         "to 3.0 on the last; the prompt is ignored."},

        // WAN (Wan-AI)
        {"wan-2.1-i2v-480p", kWan, Kind::Local, Backend::Wan,
         "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers", "Wan 2.1 I2V 14B at 480p", "",
         "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers", {832, 480, 81, 16, 5.0, 50, 5.5},
         "Width x height is an area budget: the output keeps the input's aspect ratio. The "
         "original sized every Wan model to a 1280x720 area, running this one far above its "
         "training resolution."},
        {"wan-2.1-i2v-720p", kWan, Kind::Local, Backend::Wan,
         "Wan-AI/Wan2.1-I2V-14B-720P-Diffusers", "Wan 2.1 I2V 14B at 720p", "",
         "Wan-AI/Wan2.1-I2V-14B-720P-Diffusers", {1280, 720, 81, 16, 5.0, 50, 5.5}, kWanAreaNote},
        {"wan-2.2-i2v-a14b", kWan, Kind::Local, Backend::Wan, "Wan-AI/Wan2.2-I2V-A14B-Diffusers",
         "Wan 2.2 I2V A14B, two 14B experts for high and low noise", "",
         "Wan-AI/Wan2.2-I2V-A14B-Diffusers", {1280, 720, 81, 16, 5.0, 50, 5.5},
         "Width x height is an area budget: the output keeps the input's aspect ratio. 50 steps "
         "at guidance 5.5 as in the original (Wan's own recipe is 40 steps at 3.5)."},
        {"wan-2.2-ti2v-5b", kWan, Kind::Local, Backend::Wan, "Wan-AI/Wan2.2-TI2V-5B-Diffusers",
         "Wan 2.2 TI2V 5B, a compact text+image to video model at 720p", "",
         "Wan-AI/Wan2.2-TI2V-5B-Diffusers", {1280, 704, 121, 24, 5.0, 50, 5.5},
         "121 frames at 24 fps, the model's native rate; the original used the 14B models' 81 "
         "frames at 16 fps, so its clips played back 1.5x slow. Size is an area budget."},

        // CogVideoX (Zhipu AI / THUDM)
        {"cogvideox-5b-i2v", kCogVideoX, Kind::Local, Backend::CogVideoX, "THUDM/CogVideoX-5b-I2V",
         "CogVideoX 5B I2V, 6 s at 720x480", "", "THUDM/CogVideoX-5b-I2V",
         {720, 480, 49, 8, 6.0, 50, 6.0}, ""},
        {"cogvideox1.5-5b-i2v", kCogVideoX, Kind::Local, Backend::CogVideoX,
         "THUDM/CogVideoX1.5-5B-I2V", "CogVideoX 1.5 5B I2V, 5 s at 1360x768", "",
         "THUDM/CogVideoX1.5-5B-I2V", {1360, 768, 81, 16, 5.0, 50, 6.0},
         "1360x768, 81 frames at 16 fps as the original's catalog intended; its wrapper ignored "
         "those values and ran the 5B settings (720x480, 49 frames, 8 fps)."},

        // SANA-Video (NVlabs / Efficient-Large-Model)
        {"sana-video-2b-480p", kSana, Kind::Local, Backend::SanaVideo,
         "Efficient-Large-Model/SANA-Video_2B_480p_diffusers",
         "SANA-Video 2B, a linear-attention video DiT at 480p", "",
         "Efficient-Large-Model/SANA-Video_2B_480p_diffusers", {832, 480, 81, 16, 5.0, 50, 4.5},
         "81 frames at guidance 4.5 as the original's catalog intended; its wrapper ignored them "
         "and ran 80 frames at guidance 6.0."},
        {"sana", kSana, Kind::Local, Backend::SanaVideo,
         "Efficient-Large-Model/SANA-Video_2B_480p_diffusers",
         "Old name for sana-video-2b-480p (same model)", "",
         "Efficient-Large-Model/SANA-Video_2B_480p_diffusers", {832, 480, 81, 16, 5.0, 50, 4.5},
         "Alias of sana-video-2b-480p. The original's entry named a wrapper class that does not "
         "exist, so it always failed to load."},
    };
    return table;
}

const ModelInfo* find_model(std::string_view name) {
    for (const ModelInfo& model : all_models()) {
        if (name == model.name) return &model;
    }
    return nullptr;
}

const char* to_string(Kind kind) {
    switch (kind) {
    case Kind::Baseline: return "baseline";
    case Kind::Api: return "api";
    case Kind::Local: return "local";
    }
    return "unknown";
}

}  // namespace vmeval::registry
