#include "models/torch/tokenizers/sentencepiece_tokenizer.hpp"

#include <sentencepiece_processor.h>

#include <algorithm>
#include <optional>

#include "models/torch/tokenizers/added_tokens.hpp"
#include "models/torch/tokenizers/unigram.hpp"
#include "vmeval/core/error.hpp"

namespace vmeval::tokenizers {

namespace fs = std::filesystem;

struct SentencePieceTokenizer::Impl {
    sentencepiece::SentencePieceProcessor processor;
    /// Set for unigram models, which are segmented by detail::UnigramLattice (see unigram.hpp).
    std::optional<detail::UnigramLattice> unigram;
    /// Control and unk pieces ("</s>", "<pad>", "<bos>"...): transformers registers them as
    /// added tokens, so written in a prompt they become their ids, not characters.
    detail::AddedTokenMatcher specials;

    void find_specials() {
        std::vector<detail::AddedToken> tokens;
        for (int id = 0; id < processor.GetPieceSize(); ++id) {
            if (processor.IsControl(id) || processor.IsUnknown(id)) {
                detail::AddedToken t;
                t.content = processor.IdToPiece(id);
                t.id = id;
                tokens.push_back(std::move(t));
            }
        }
        specials = detail::AddedTokenMatcher(std::move(tokens));
    }

    std::vector<int64_t> encode_plain(const std::string& text) const {
        if (unigram) return unigram->segment(normalized(text));
        std::vector<int> ids;
        const auto status = processor.Encode(text, &ids);
        if (!status.ok()) {
            throw Error(ErrorCode::Internal,
                        "SentencePiece could not encode a prompt: " + status.ToString());
        }
        return {ids.begin(), ids.end()};
    }

    void build_unigram() {
        detail::UnigramLattice lattice;
        double min_score = 0;
        for (int id = 0; id < processor.GetPieceSize(); ++id) {
            const double score = processor.GetScore(id);
            min_score = std::min(min_score, score);
            if (!processor.IsControl(id) && !processor.IsUnknown(id) && !processor.IsUnused(id) &&
                !processor.IsByte(id)) {
                lattice.add(processor.IdToPiece(id), id, score);
            }
        }
        lattice.finish(processor.unk_id(), min_score);
        unigram = std::move(lattice);
    }

    /// SentencePiece's normalized text ("▁" for spaces, NFKC, collapsed whitespace): the pieces
    /// of its own encoding put back together (byte pieces as the bytes they stand for).
    std::string normalized(const std::string& text) const {
        std::string out;
        // Pieces point into the encoding: it must outlive the loop.
        const auto encoding = processor.EncodeAsImmutableProto(text);
        for (const auto& p : encoding.pieces()) {
            if (processor.IsByte(static_cast<int>(p.id()))) {
                out += static_cast<char>(std::stoi(p.piece().substr(3, 2), nullptr, 16));
            } else {
                out += p.piece();
            }
        }
        return out;
    }
};

SentencePieceOptions SentencePieceOptions::t5(int max_length) {
    SentencePieceOptions o;
    o.max_length = max_length;
    o.pad_to_max = true;
    o.add_eos = true;
    return o;
}

SentencePieceOptions SentencePieceOptions::gemma(int max_length, PaddingSide side) {
    SentencePieceOptions o;
    o.max_length = max_length;
    o.pad_to_max = true;
    o.add_bos = true;
    o.add_eos = false;
    o.padding_side = side;
    return o;
}

namespace {

fs::path model_file(const fs::path& path) {
    if (!fs::is_directory(path)) return path;
    for (const char* name : {"spiece.model", "tokenizer.model"}) {
        if (fs::exists(path / name)) return path / name;
    }
    throw Error(ErrorCode::Config,
                "no SentencePiece model in " + path.string() +
                    ": expected spiece.model or tokenizer.model (the tokenizer/ folder of the "
                    "diffusers repo); re-download the model");
}

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(std::unique_ptr<Impl> impl, fs::path file)
    : impl_(std::move(impl)), file_(std::move(file)) {}
SentencePieceTokenizer::SentencePieceTokenizer(SentencePieceTokenizer&&) noexcept = default;
SentencePieceTokenizer& SentencePieceTokenizer::operator=(SentencePieceTokenizer&&) noexcept =
    default;
SentencePieceTokenizer::~SentencePieceTokenizer() = default;

SentencePieceTokenizer SentencePieceTokenizer::load(const fs::path& path) {
    const fs::path file = model_file(path);
    if (!fs::is_regular_file(file)) {
        throw Error(ErrorCode::Config, "SentencePiece model " + file.string() +
                                           " does not exist; check the model folder or "
                                           "re-download it");
    }
    auto impl = std::make_unique<Impl>();
    const auto status = impl->processor.Load(file.string());
    if (!status.ok()) {
        throw Error(ErrorCode::Config, "cannot read SentencePiece model " + file.string() + " (" +
                                           status.ToString() +
                                           "); the file is damaged or not a .model file: "
                                           "re-download it");
    }
    if (detail::sentencepiece_model_type(impl->processor.serialized_model_proto()) == 1) {
        impl->build_unigram();
    }
    impl->find_specials();
    return SentencePieceTokenizer(std::move(impl), file);
}

std::vector<int64_t> SentencePieceTokenizer::tokenize(const std::string& text) const {
    std::vector<int64_t> ids;
    for (const auto& segment : impl_->specials.split(text)) {
        if (segment.id) {
            ids.push_back(*segment.id);
        } else {
            const auto part = impl_->encode_plain(segment.text);
            ids.insert(ids.end(), part.begin(), part.end());
        }
    }
    return ids;
}

Encoded SentencePieceTokenizer::encode(const std::string& text,
                                       const SentencePieceOptions& options) const {
    std::vector<int64_t> prefix, suffix;
    if (options.add_bos) {
        if (bos_id() < 0) {
            throw Error(ErrorCode::Config, file_.string() + " defines no bos piece but the " +
                                               "tokenizer options ask for one (add_bos)");
        }
        prefix.push_back(bos_id());
    }
    if (options.add_eos) {
        if (eos_id() < 0) {
            throw Error(ErrorCode::Config, file_.string() + " defines no eos piece but the " +
                                               "tokenizer options ask for one (add_eos)");
        }
        suffix.push_back(eos_id());
    }
    Fit fit;
    fit.max_length = options.max_length;
    fit.truncate = options.truncate;
    fit.pad_to_max = options.pad_to_max;
    fit.side = options.padding_side;
    fit.pad_id = pad_id();
    return assemble(tokenize(text), prefix, suffix, fit);
}

int64_t SentencePieceTokenizer::vocab_size() const { return impl_->processor.GetPieceSize(); }
int64_t SentencePieceTokenizer::bos_id() const { return impl_->processor.bos_id(); }
int64_t SentencePieceTokenizer::eos_id() const { return impl_->processor.eos_id(); }
int64_t SentencePieceTokenizer::unk_id() const { return impl_->processor.unk_id(); }

int64_t SentencePieceTokenizer::pad_id() const {
    // T5's spiece.model was trained without a pad piece; transformers pads it with id 0 (<pad>).
    const int id = impl_->processor.pad_id();
    return id < 0 ? 0 : id;
}

std::string SentencePieceTokenizer::piece(int64_t id) const {
    if (id < 0 || id >= vocab_size()) {
        throw Error(ErrorCode::Internal, "token id " + std::to_string(id) + " is outside " +
                                             file_.string() + "'s vocabulary");
    }
    return impl_->processor.IdToPiece(static_cast<int>(id));
}

}  // namespace vmeval::tokenizers
