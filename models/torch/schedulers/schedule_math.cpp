#include "models/torch/schedulers/schedule_math.hpp"

#include <algorithm>
#include <cmath>

#include "vmeval/core/error.hpp"

namespace vmeval::sched {

std::vector<double> np_linspace(double start, double stop, int64_t num) {
    std::vector<double> out(static_cast<size_t>(std::max<int64_t>(num, 0)));
    if (num <= 0) return out;
    if (num == 1) {
        out[0] = start;
        return out;
    }
    const double step = (stop - start) / static_cast<double>(num - 1);
    for (int64_t i = 0; i < num; ++i) out[i] = static_cast<double>(i) * step + start;
    out.back() = stop;
    return out;
}

std::vector<double> np_arange(double start, double stop, double step) {
    const double len = std::ceil((stop - start) / step);
    std::vector<double> out(len > 0 ? static_cast<size_t>(len) : 0);
    if (out.empty()) return out;
    // numpy fills from the first two values, so the stride is (start + step) - start, not step.
    const double delta = (start + step) - start;
    for (size_t i = 0; i < out.size(); ++i) out[i] = start + static_cast<double>(i) * delta;
    return out;
}

double np_round(double x) { return std::nearbyint(x); }

double np_interp_index(double x, const std::vector<double>& fp) {
    const auto n = static_cast<int64_t>(fp.size());
    if (x > static_cast<double>(n - 1)) return fp.back();
    if (x < 0.0) return fp.front();
    const auto j = static_cast<int64_t>(std::floor(x));
    if (j >= n - 1) return fp.back();
    if (static_cast<double>(j) == x) return fp[j];
    const double slope = fp[j + 1] - fp[j];  // the grid step is 1
    return slope * (x - static_cast<double>(j)) + fp[j];
}

double sigma_to_t(double sigma, const std::vector<float>& log_sigmas) {
    const double log_sigma = std::log(std::max(sigma, 1e-10));
    const auto n = static_cast<int64_t>(log_sigmas.size());
    // cumsum(dists >= 0).argmax(): the last index whose log-sigma is at or below ours, else 0.
    int64_t low = 0;
    for (int64_t k = 0; k < n; ++k)
        if (log_sigma - static_cast<double>(log_sigmas[k]) >= 0) low = k;
    low = std::min(low, n - 2);
    const float lo = log_sigmas[low];
    const float hi = log_sigmas[low + 1];
    const float width = lo - hi;
    double w = (static_cast<double>(lo) - log_sigma) / static_cast<double>(width);
    w = std::clamp(w, 0.0, 1.0);
    return (1 - w) * static_cast<double>(low) + w * static_cast<double>(low + 1);
}

std::vector<double> karras_sigmas(double sigma_min, double sigma_max, int64_t num) {
    const double rho = 7.0;
    const double min_inv_rho = std::pow(sigma_min, 1 / rho);
    const double max_inv_rho = std::pow(sigma_max, 1 / rho);
    auto ramp = np_linspace(0, 1, num);
    for (auto& r : ramp) r = std::pow(max_inv_rho + r * (min_inv_rho - max_inv_rho), rho);
    return ramp;
}

std::vector<double> exponential_sigmas(double sigma_min, double sigma_max, int64_t num) {
    auto out = np_linspace(std::log(sigma_max), std::log(sigma_min), num);
    for (auto& v : out) v = std::exp(v);
    return out;
}

at::Tensor shift_flow_sigmas(const at::Tensor& sigmas, std::optional<double> mu,
                             const std::string& time_shift_type, double shift) {
    if (!mu) return sigmas * shift / (sigmas * (shift - 1) + 1);
    auto base = 1 / sigmas - 1;
    if (time_shift_type == "exponential") {
        const double e = std::exp(*mu);
        return e / (base + e);
    }
    return *mu / (base + *mu);
}

at::Tensor stretch_to_terminal(const at::Tensor& sigmas, double terminal) {
    auto one_minus = 1 - sigmas;
    auto scale = one_minus[-1] / (1 - terminal);
    return 1 - one_minus / scale;
}

at::Tensor to_tensor(const std::vector<double>& values, at::ScalarType dtype) {
    return at::tensor(at::ArrayRef<double>(values), at::TensorOptions().dtype(at::kDouble))
        .to(dtype);
}

std::vector<double> to_vector(const at::Tensor& t) {
    auto d = t.detach().to(at::kCPU, at::kDouble).contiguous();
    return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

BetaConfig BetaConfig::from(const nn::ConfigFile& config, const BetaConfig& defaults) {
    BetaConfig c;
    c.num_train_timesteps =
        config.get<int64_t>("num_train_timesteps", defaults.num_train_timesteps);
    c.beta_start = config.get<double>("beta_start", defaults.beta_start);
    c.beta_end = config.get<double>("beta_end", defaults.beta_end);
    c.beta_schedule = config_choice(config, "beta_schedule", defaults.beta_schedule,
                                    {"linear", "scaled_linear", "squaredcos_cap_v2"});
    c.trained_betas = config.get<std::vector<double>>("trained_betas", {});
    c.rescale_betas_zero_snr =
        config.get<bool>("rescale_betas_zero_snr", defaults.rescale_betas_zero_snr);
    if (c.num_train_timesteps < 2)
        throw Error(ErrorCode::Config,
                    config.path().string() + ": 'num_train_timesteps' must be at least 2");
    if (!c.trained_betas.empty() &&
        static_cast<int64_t>(c.trained_betas.size()) != c.num_train_timesteps)
        throw Error(ErrorCode::Config, config.path().string() + ": 'trained_betas' lists " +
                                           std::to_string(c.trained_betas.size()) + " values for " +
                                           std::to_string(c.num_train_timesteps) +
                                           " train timesteps");
    return c;
}

namespace {

// Nichol & Dhariwal's cosine alpha-bar, integrated in Python floats like diffusers'
// betas_for_alpha_bar.
at::Tensor cosine_betas(int64_t n) {
    const double pi = 3.14159265358979323846;
    auto alpha_bar = [pi](double t) {
        const double c = std::cos((t + 0.008) / 1.008 * pi / 2);
        return c * c;
    };
    std::vector<double> betas(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const double t1 = static_cast<double>(i) / static_cast<double>(n);
        const double t2 = static_cast<double>(i + 1) / static_cast<double>(n);
        betas[i] = std::min(1 - alpha_bar(t2) / alpha_bar(t1), 0.999);
    }
    return to_tensor(betas, at::kFloat);
}

}  // namespace

at::Tensor make_betas(const BetaConfig& cfg, at::ScalarType scaled_linear_dtype) {
    at::Tensor betas;
    if (!cfg.trained_betas.empty()) {
        betas = to_tensor(cfg.trained_betas, at::kFloat);
    } else if (cfg.beta_schedule == "linear") {
        betas = at::linspace(cfg.beta_start, cfg.beta_end, cfg.num_train_timesteps, at::kFloat);
    } else if (cfg.beta_schedule == "scaled_linear") {
        betas =
            at::linspace(std::pow(cfg.beta_start, 0.5), std::pow(cfg.beta_end, 0.5),
                         cfg.num_train_timesteps, at::TensorOptions().dtype(scaled_linear_dtype))
                .pow(2);
    } else {
        betas = cosine_betas(cfg.num_train_timesteps);
    }
    return betas;
}

at::Tensor rescale_zero_terminal_snr(const at::Tensor& betas) {
    auto alphas = 1.0 - betas;
    auto alphas_bar_sqrt = at::cumprod(alphas, 0).sqrt();
    auto first = alphas_bar_sqrt[0].clone();
    auto last = alphas_bar_sqrt[-1].clone();
    alphas_bar_sqrt -= last;
    alphas_bar_sqrt *= first / (first - last);
    auto alphas_bar = alphas_bar_sqrt.pow(2);
    auto ratios = alphas_bar.slice(0, 1) / alphas_bar.slice(0, 0, -1);
    return 1 - at::cat({alphas_bar.slice(0, 0, 1), ratios});
}

at::Tensor threshold_sample(const at::Tensor& sample, double ratio, double max_value) {
    const auto dtype = sample.scalar_type();
    auto x = (dtype == at::kFloat || dtype == at::kDouble) ? sample : sample.to(at::kFloat);
    const auto shape = x.sizes().vec();
    x = x.reshape({shape[0], -1});
    auto s = at::quantile(x.abs(), ratio, 1);
    s = at::clamp(s, 1, max_value).unsqueeze(1);
    x = at::clamp(x, -s, s) / s;
    return x.reshape(shape).to(dtype);
}

std::string config_choice(const nn::ConfigFile& config, const std::string& key,
                          const std::string& fallback, std::initializer_list<const char*> allowed) {
    auto value = config.get<std::string>(key, fallback);
    std::string list;
    for (const char* a : allowed) {
        if (value == a) return value;
        list += (list.empty() ? "" : ", ") + std::string(a);
    }
    throw Error(ErrorCode::Config, config.path().string() + ": '" + key + "' is \"" + value +
                                       "\"; vmeval supports " + list);
}

std::optional<double> config_optional(const nn::ConfigFile& config, const std::string& key) {
    if (!config.has(key)) return std::nullopt;
    return config.get<double>(key);
}

void reject_flag(const nn::ConfigFile& config, const std::string& key, const std::string& why) {
    if (config.get<bool>(key, false))
        throw Error(ErrorCode::Config, config.path().string() + ": '" + key + "' is true, which " +
                                           why + "; set it to false or use another scheduler");
}

}  // namespace vmeval::sched
