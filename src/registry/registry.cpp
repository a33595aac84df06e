// Turning what users type (--model values) into catalog rows, "did you mean" hints, and the
// availability check that tells users what to set before a batch starts.
#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>
#include <vector>

#include "src/registry/factories.hpp"
#include "vmeval/core/error.hpp"
#include "vmeval/registry/registry.hpp"

namespace vmeval::registry {

namespace {

// Short names users type for a family. Families missing here still match by their full name.
struct FamilySlugs {
    const char* family;
    const char* slugs;  // space separated
};

constexpr FamilySlugs kFamilySlugs[] = {
    {"Baselines", "baselines baseline"},
    {"Luma Dream Machine", "luma"},
    {"Google Veo", "veo google"},
    {"Kling", "kling"},
    {"OpenAI Sora", "sora openai"},
    {"Runway ML", "runway"},
    {"LTX-Video", "ltx"},
    {"HunyuanVideo", "hunyuan"},
    {"VideoCrafter", "videocrafter"},
    {"DynamiCrafter", "dynamicrafter"},
    {"Morphic", "morphic"},
    {"Stable Video Diffusion", "svd"},
    {"WAN (Wan-AI)", "wan"},
    {"CogVideoX", "cogvideox cogvideo"},
    {"SANA-Video", "sana-video"},
};

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool iequals(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

/// Letters and digits only, lower-cased: "Veo-3.0" and "veo30" compare equal.
std::string normalized(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (std::isalnum(static_cast<unsigned char>(c))) {
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    return out;
}

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> pieces;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(separator, start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view piece = text.substr(start, end - start);
        while (!piece.empty() && std::isspace(static_cast<unsigned char>(piece.front()))) {
            piece.remove_prefix(1);
        }
        while (!piece.empty() && std::isspace(static_cast<unsigned char>(piece.back()))) {
            piece.remove_suffix(1);
        }
        if (!piece.empty()) pieces.emplace_back(piece);
        start = end + 1;
    }
    return pieces;
}

bool is_family_selector(const ModelInfo& model, const std::string& selector) {
    if (iequals(model.family, selector)) return true;
    for (const FamilySlugs& entry : kFamilySlugs) {
        if (std::string_view(entry.family) != model.family) continue;
        for (const std::string& slug : split(entry.slugs, ' ')) {
            if (iequals(slug, selector)) return true;
        }
    }
    return false;
}

bool is_glob(const std::string& selector) {
    return selector.find_first_of("*?[") != std::string::npos;
}

/// Every model one selector piece names, in catalog order; empty when it names none.
std::vector<const ModelInfo*> match_selector(const std::string& selector) {
    const std::vector<ModelInfo>& models = all_models();
    std::vector<const ModelInfo*> matches;
    auto collect = [&](auto&& wanted) {
        for (const ModelInfo& model : models) {
            if (wanted(model)) matches.push_back(&model);
        }
    };

    if (const ModelInfo* exact = find_model(selector)) return {exact};
    // A family spelled exactly as displayed wins over a model name that differs only in case:
    // "LTX-Video" is the family, "ltx-video" (or "Ltx-Video") the model.
    collect([&](const ModelInfo& m) { return selector == m.family; });
    if (!matches.empty()) return matches;
    for (const ModelInfo& model : models) {
        if (iequals(model.name, selector)) return {&model};
    }

    const std::string key = lower(selector);
    // Groups mean "everything of this kind that this binary can run": a model that no setting can
    // make runnable here (not built, unsupported) is left out instead of stopping the batch.
    auto in_build = [](const ModelInfo& m) {
        return backend_built(m.backend) && unsupported_reason(m) == nullptr;
    };
    if (key == "all") {
        collect([&](const ModelInfo& m) { return in_build(m); });
    } else if (key == "all-baselines") {
        collect([&](const ModelInfo& m) { return m.kind == Kind::Baseline && in_build(m); });
    } else if (key == "all-api") {
        collect([&](const ModelInfo& m) { return m.kind == Kind::Api && in_build(m); });
    } else if (key == "all-local") {
        collect([&](const ModelInfo& m) { return m.kind == Kind::Local && in_build(m); });
    }
    if (key == "all" || key == "all-baselines" || key == "all-api" || key == "all-local") {
        if (matches.empty()) {
            throw Error(ErrorCode::Usage, "'" + selector + "' matches no model that this build can run "
                                          "(`vmeval models` shows what each model needs)");
        }
        return matches;
    } else {
        collect([&](const ModelInfo& m) { return is_family_selector(m, selector); });
    }
    if (!matches.empty() || !is_glob(selector)) return matches;

    // Case-sensitive first so that "LTX-*" and "ltx-*" can mean different things; fall back to
    // ignoring case only when the exact-case pattern matches nothing.
    collect([&](const ModelInfo& m) { return fnmatch(selector.c_str(), m.name, 0) == 0; });
    if (matches.empty()) {
        collect([&](const ModelInfo& m) {
            return fnmatch(key.c_str(), lower(m.name).c_str(), 0) == 0;
        });
    }
    return matches;
}

size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> previous(b.size() + 1);
    std::vector<size_t> current(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitute});
        }
        std::swap(previous, current);
    }
    return previous[b.size()];
}

/// Lower is closer, in edits. Plain edit distance (on the names as typed and with punctuation
/// dropped), except that partial names count as about one edit: typing the start of a name
/// ("veo3" for veo-3.0-generate), a name plus extra text ("svd-xt"), a piece of a name ("sora-2")
/// or a name's first word ("morphic-f2v"). Edit distance alone would rank every short name above
/// the long one the user began typing.
double closeness(const std::string& query, const char* name) {
    const std::string nq = normalized(query);
    const std::string nn = normalized(name);
    double score = static_cast<double>(
        std::min(edit_distance(lower(query), lower(name)), edit_distance(nq, nn)));
    const double extra = static_cast<double>(nq.size() > nn.size() ? nq.size() - nn.size()
                                                                   : nn.size() - nq.size());
    size_t shared = 0;
    while (shared < nq.size() && shared < nn.size() && nq[shared] == nn[shared]) ++shared;

    if (nq.size() >= 2 && shared == nq.size()) {
        score = std::min(score, 0.5 + 0.05 * extra);
    } else if (nn.size() >= 3 && shared == nn.size()) {
        score = std::min(score, 1.0 + 0.25 * extra);
    } else if ((nq.size() >= 3 && nn.find(nq) != std::string::npos) ||
               (nn.size() >= 3 && nq.find(nn) != std::string::npos)) {
        score = std::min(score, 1.0 + 0.1 * extra);
    } else if (shared >= 4 && 2 * shared >= nq.size()) {
        score = std::min(score, 1.5 + 0.5 * static_cast<double>(nq.size() - shared));
    }
    return score;
}

Error unknown_model(const std::string& selector) {
    std::string message = "unknown model '" + selector + "'";
    std::string probe = selector;
    probe.erase(std::remove_if(probe.begin(), probe.end(),
                               [](char c) { return c == '*' || c == '?' || c == '[' || c == ']'; }),
                probe.end());
    std::vector<std::string> hints = suggest(probe);
    if (!hints.empty()) {
        message += "; did you mean: ";
        for (size_t i = 0; i < hints.size(); ++i) message += (i ? ", " : "") + hints[i];
        message += "?";
    }
    message += " (vmeval models lists them all)";
    return Error(ErrorCode::Usage, message);
}

}  // namespace

std::vector<const ModelInfo*> resolve(const std::vector<std::string>& selectors) {
    std::vector<const ModelInfo*> resolved;
    for (const std::string& selector : selectors) {
        for (const std::string& piece : split(selector, ',')) {
            std::vector<const ModelInfo*> matches = match_selector(piece);
            if (matches.empty()) throw unknown_model(piece);
            for (const ModelInfo* model : matches) {
                if (std::find(resolved.begin(), resolved.end(), model) == resolved.end()) {
                    resolved.push_back(model);
                }
            }
        }
    }
    return resolved;
}

std::vector<std::string> suggest(std::string_view name, size_t n) {
    struct Candidate {
        double score;
        size_t order;  // catalog position: ties keep display order
    };
    const std::vector<ModelInfo>& models = all_models();
    const std::string query(name);
    // Beyond this a "hint" is noise ("abc" -> svd): better no suggestion than a random one.
    const double limit = std::max(1.0, 0.45 * static_cast<double>(normalized(query).size()));

    std::vector<Candidate> candidates;
    for (size_t i = 0; i < models.size(); ++i) {
        double score = closeness(query, models[i].name);
        if (score <= limit) candidates.push_back({score, i});
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& a, const Candidate& b) { return a.score < b.score; });

    std::vector<std::string> names;
    for (size_t i = 0; i < candidates.size() && names.size() < n; ++i) {
        names.emplace_back(models[candidates[i].order].name);
    }
    return names;
}

Availability check_availability(const ModelInfo& model) {
    Availability availability;
    const char* unsupported = unsupported_reason(model);
    availability.built = backend_built(model.backend) && unsupported == nullptr;
    // Only names go into messages: these variables hold secrets.
    for (const std::string& variable : split(model.env_vars, ' ')) {
        const char* value = std::getenv(variable.c_str());
        if (value == nullptr || *value == '\0') {
            availability.missing.push_back("set " + variable +
                                           " (in the environment or in .env; see env.template)");
        }
    }
    if (unsupported != nullptr) {
        availability.missing.push_back(std::string("not supported: ") + unsupported);
    } else if (!availability.built) {
        const std::string what = model.kind == Kind::Api ? " API client" : " backend";
        availability.missing.push_back("not available in this build: the " +
                                       std::string(model.family) + what +
                                       " is not implemented yet");
    }
    availability.usable = availability.built && availability.missing.empty();
    return availability;
}

}  // namespace vmeval::registry
