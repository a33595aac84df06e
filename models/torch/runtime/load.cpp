#include "models/torch/runtime/load.hpp"

#include <ATen/ATen.h>

#include <set>
#include <sstream>

#include "vmeval/core/error.hpp"

namespace vmeval::nn {

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
    std::ostringstream out;
    out << "[";
    for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << "]";
    return out.str();
}

void list(std::ostringstream& out, const char* what, const std::vector<std::string>& names) {
    if (names.empty()) return;
    out << " " << names.size() << " " << what << ":";
    for (std::size_t i = 0; i < names.size() && i < 8; ++i) out << (i ? ", " : " ") << names[i];
    if (names.size() > 8) out << ", ...";
    out << ".";
}

}  // namespace

std::string LoadReport::summary() const {
    std::ostringstream out;
    list(out, "missing", missing);
    list(out, "unexpected", unexpected);
    list(out, "with the wrong shape", mismatched);
    auto text = out.str();
    return text.empty() ? "all keys match" : text.substr(1);
}

LoadReport check_weights(Module& module, const CheckpointReader& reader, const LoadOptions& options) {
    LoadReport report;
    std::set<std::string> used;
    std::map<std::string, std::string> by_module_name;  // module name -> checkpoint key
    for (const auto& key : reader.names()) by_module_name[options.rename ? options.rename(key) : key] = key;
    for (const auto& e : module.named_tensors()) {
        if (!e.persistent) continue;
        auto it = by_module_name.find(e.name);
        if (it == by_module_name.end()) {
            report.missing.push_back(e.name);
            continue;
        }
        used.insert(it->second);
        const auto& shape = reader.info(it->second).shape;
        std::vector<int64_t> have(shape.begin(), shape.end());
        if (have != e.shape)
            report.mismatched.push_back(e.name + ": checkpoint " + shape_text(have) + " vs module " + shape_text(e.shape));
    }
    for (const auto& [name, key] : by_module_name) {
        if (used.count(key)) continue;
        bool ignored = false;
        for (const auto& p : options.ignore_prefixes) ignored = ignored || key.rfind(p, 0) == 0;
        if (!ignored) report.unexpected.push_back(key);
    }
    return report;
}

LoadReport load_weights(Module& module, const CheckpointReader& reader, const LoadOptions& options) {
    LoadReport report = check_weights(module, reader, options);
    if (!report.ok())
        throw Error(ErrorCode::Config, reader.describe() + " does not fit the model: " + report.summary() +
                                           " Check that the folder holds this model's weights.");
    std::map<std::string, std::string> by_module_name;
    for (const auto& key : reader.names()) by_module_name[options.rename ? options.rename(key) : key] = key;
    for (const auto& e : module.named_tensors()) {
        if (!e.persistent) continue;
        auto dtype = e.keep == Keep::Float32 ? at::kFloat : options.dtype;
        *e.tensor = reader.read(by_module_name.at(e.name), options.device, dtype);
        report.loaded += 1;
        report.bytes += e.tensor->numel() * e.tensor->element_size();
    }
    return report;
}

}  // namespace vmeval::nn
