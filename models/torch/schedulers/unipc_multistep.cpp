#include "models/torch/schedulers/unipc_multistep.hpp"

#include <algorithm>
#include <cmath>

#include "vmeval/core/error.hpp"

namespace vmeval::sched {

UniPCConfig UniPCConfig::from(const nn::ConfigFile& config) {
    UniPCConfig c;
    c.betas = BetaConfig::from(config, BetaConfig{});
    c.solver_order = config.get<int>("solver_order", c.solver_order);
    c.prediction_type = config_choice(config, "prediction_type", c.prediction_type,
                                      {"epsilon", "sample", "v_prediction", "flow_prediction"});
    c.thresholding = config.get<bool>("thresholding", c.thresholding);
    c.dynamic_thresholding_ratio =
        config.get<double>("dynamic_thresholding_ratio", c.dynamic_thresholding_ratio);
    c.sample_max_value = config.get<double>("sample_max_value", c.sample_max_value);
    c.predict_x0 = config.get<bool>("predict_x0", c.predict_x0);
    c.solver_type = config_choice(config, "solver_type", c.solver_type,
                                  {"bh1", "bh2", "midpoint", "heun", "logrho"});
    if (c.solver_type != "bh1") c.solver_type = "bh2";  // diffusers' own remapping of the DPM names
    c.lower_order_final = config.get<bool>("lower_order_final", c.lower_order_final);
    c.disable_corrector = config.get<std::vector<int>>("disable_corrector", {});
    c.use_karras_sigmas = config.get<bool>("use_karras_sigmas", c.use_karras_sigmas);
    c.use_exponential_sigmas = config.get<bool>("use_exponential_sigmas", c.use_exponential_sigmas);
    c.use_flow_sigmas = config.get<bool>("use_flow_sigmas", c.use_flow_sigmas);
    c.flow_shift = config.get<double>("flow_shift", c.flow_shift);
    c.timestep_spacing = config_choice(config, "timestep_spacing", c.timestep_spacing,
                                       {"linspace", "leading", "trailing"});
    c.steps_offset = config.get<int64_t>("steps_offset", c.steps_offset);
    c.final_sigmas_type =
        config_choice(config, "final_sigmas_type", c.final_sigmas_type, {"zero", "sigma_min"});
    c.use_dynamic_shifting = config.get<bool>("use_dynamic_shifting", c.use_dynamic_shifting);
    c.time_shift_type =
        config_choice(config, "time_shift_type", c.time_shift_type, {"exponential", "linear"});
    c.sigma_min = config_optional(config, "sigma_min");
    c.sigma_max = config_optional(config, "sigma_max");
    c.shift_terminal = config_optional(config, "shift_terminal");
    reject_flag(config, "use_beta_sigmas", "needs scipy's beta quantiles");
    const auto where = config.path().string() + ": ";
    if (config.has("solver_p"))
        throw Error(
            ErrorCode::Config,
            where + "'solver_p' (a nested predictor scheduler) is not supported; remove it");
    if (c.solver_order < 1)
        throw Error(ErrorCode::Config, where + "'solver_order' must be at least 1");
    if (c.use_karras_sigmas && c.use_exponential_sigmas)
        throw Error(
            ErrorCode::Config,
            where + "only one of 'use_karras_sigmas' and 'use_exponential_sigmas' may be true");
    if (c.shift_terminal && !c.use_flow_sigmas)
        throw Error(ErrorCode::Config, where + "'shift_terminal' needs 'use_flow_sigmas'");
    if (c.prediction_type == "flow_prediction" && !c.predict_x0)
        throw Error(ErrorCode::Config, where + "'flow_prediction' needs 'predict_x0'");
    return c;
}

UniPCMultistepScheduler::UniPCMultistepScheduler(UniPCConfig config) : config_(std::move(config)) {
    auto betas = make_betas(config_.betas);
    if (config_.betas.rescale_betas_zero_snr) betas = rescale_zero_terminal_snr(betas);
    alphas_cumprod_ = at::cumprod(1.0 - betas, 0);
    if (config_.betas.rescale_betas_zero_snr) alphas_cumprod_[-1] = std::pow(2.0, -24);
}

void UniPCMultistepScheduler::set_timesteps(int steps, const at::Device& device,
                                            std::optional<double> mu) {
    if (steps < 1)
        throw Error(ErrorCode::Config, "UniPCMultistepScheduler: steps must be at least 1");
    if (config_.use_dynamic_shifting && !mu)
        throw Error(ErrorCode::Config,
                    "UniPCMultistepScheduler: the config sets use_dynamic_shifting, so the "
                    "pipeline must pass mu");
    const int64_t n_train = config_.betas.num_train_timesteps;
    const double n = static_cast<double>(n_train);
    std::vector<double> timesteps;  // becomes int64 by truncation, as torch's .to(int64) does
    if (config_.timestep_spacing == "linspace") {
        auto grid = np_linspace(0, n - 1, steps + 1);
        for (int i = steps; i >= 1; --i) timesteps.push_back(np_round(grid[i]));
    } else if (config_.timestep_spacing == "leading") {
        const int64_t ratio = n_train / (steps + 1);
        for (int64_t i = steps; i >= 1; --i)
            timesteps.push_back(static_cast<double>(i * ratio + config_.steps_offset));
    } else {
        for (double t : np_arange(n, 0, -n / steps)) timesteps.push_back(np_round(t) - 1);
    }

    auto train_sigmas_t = ((1 - alphas_cumprod_) / alphas_cumprod_).pow(0.5);
    auto train_sigmas = to_vector(train_sigmas_t);
    std::vector<double> sigmas;
    double last = 0;
    const bool sigma_min_last = config_.final_sigmas_type == "sigma_min";
    if (config_.use_karras_sigmas || config_.use_exponential_sigmas) {
        auto log_t = train_sigmas_t.log().contiguous();
        std::vector<float> log_sigmas(log_t.data_ptr<float>(),
                                      log_t.data_ptr<float>() + log_t.numel());
        const double lo = config_.sigma_min.value_or(train_sigmas.front());
        const double hi = config_.sigma_max.value_or(train_sigmas.back());
        sigmas = config_.use_karras_sigmas ? karras_sigmas(lo, hi, steps)
                                           : exponential_sigmas(lo, hi, steps);
        timesteps.clear();
        if (config_.use_karras_sigmas && config_.use_flow_sigmas) {
            for (auto& s : sigmas) {
                s = s / (s + 1);
                timesteps.push_back(s * n);
            }
        } else {
            for (double s : sigmas) {
                const double t = sigma_to_t(s, log_sigmas);
                timesteps.push_back(config_.use_karras_sigmas ? np_round(t) : t);
            }
        }
        last = sigma_min_last ? sigmas.back() : 0.0;
    } else if (config_.use_flow_sigmas) {
        auto grid = np_linspace(1, 1 / n, steps + 1);
        grid.pop_back();
        auto shifted = shift_flow_sigmas(to_tensor(grid, at::kDouble),
                                         config_.use_dynamic_shifting ? mu : std::nullopt,
                                         config_.time_shift_type, config_.flow_shift);
        if (config_.shift_terminal && *config_.shift_terminal != 0.0)
            shifted = stretch_to_terminal(shifted, *config_.shift_terminal);
        sigmas = to_vector(shifted);
        // A first sigma of exactly 1 would make alpha_t zero and log(alpha_t) infinite.
        if (std::fabs(sigmas[0] - 1) < 1e-6) sigmas[0] -= 1e-6;
        timesteps.clear();
        for (double s : sigmas) timesteps.push_back(s * n);
        last = sigma_min_last ? sigmas.back() : 0.0;
    } else {
        for (double t : timesteps) sigmas.push_back(np_interp_index(t, train_sigmas));
        if (sigma_min_last)
            last = ((1 - alphas_cumprod_[0]) / alphas_cumprod_[0]).pow(0.5).item<double>();
    }
    sigmas.push_back(last);
    sigmas_ = to_tensor(sigmas, at::kFloat);
    timesteps_ = to_tensor(timesteps, at::kDouble).to(at::kLong).to(device);

    model_outputs_.assign(static_cast<size_t>(config_.solver_order), at::Tensor());
    last_sample_ = at::Tensor();
    lower_order_nums_ = 0;
    this_order_ = 1;
    next_index_ = -1;
}

UniPCMultistepScheduler::AlphaSigma UniPCMultistepScheduler::alpha_sigma(
    const at::Tensor& sigma) const {
    if (config_.use_flow_sigmas) return {1 - sigma, sigma};
    auto alpha = (sigma.pow(2) + 1).pow(0.5).reciprocal();
    return {alpha, sigma * alpha};
}

at::Tensor UniPCMultistepScheduler::lambda(int index) const {
    auto [alpha, sigma] = alpha_sigma(sigmas_[index]);
    return alpha.log() - sigma.log();
}

at::Tensor UniPCMultistepScheduler::convert_model_output(const at::Tensor& model_output, int index,
                                                         const at::Tensor& sample) const {
    auto [alpha_t, sigma_t] = alpha_sigma(sigmas_[index]);
    const auto& type = config_.prediction_type;
    if (config_.predict_x0) {
        at::Tensor x0;
        if (type == "epsilon")
            x0 = (sample - sigma_t * model_output) / alpha_t;
        else if (type == "sample")
            x0 = model_output;
        else if (type == "v_prediction")
            x0 = alpha_t * sample - sigma_t * model_output;
        else
            x0 = sample - sigmas_[index] * model_output;
        if (config_.thresholding)
            x0 = threshold_sample(x0, config_.dynamic_thresholding_ratio, config_.sample_max_value);
        return x0;
    }
    if (type == "epsilon") return model_output;
    if (type == "sample") return (sample - alpha_t * model_output) / sigma_t;
    return alpha_t * model_output + sigma_t * sample;  // v_prediction
}

namespace {

// The UniPC coefficients shared by predictor and corrector: h, the phi-function ratios b against
// the Vandermonde rows R of the step ratios rk, and the scaled differences D1 of older outputs.
struct Coefficients {
    at::Tensor h_phi_1, B_h, R, b, D1s;  // D1s undefined for first order
};

Coefficients coefficients(const at::Tensor& lambda_t, const at::Tensor& lambda_s0,
                          const std::vector<at::Tensor>& lambda_si,
                          const std::vector<at::Tensor>& m_i, const at::Tensor& m0, int order,
                          bool predict_x0, bool bh1) {
    auto h = lambda_t - lambda_s0;
    std::vector<at::Tensor> rks, d1s;
    for (size_t k = 0; k < lambda_si.size(); ++k) {
        auto rk = (lambda_si[k] - lambda_s0) / h;
        rks.push_back(rk);
        d1s.push_back((m_i[k] - m0) / rk);
    }
    rks.push_back(at::ones({}, lambda_t.options()));
    auto rk_all = at::stack(rks);
    auto hh = predict_x0 ? -h : h;
    Coefficients c;
    c.h_phi_1 = at::expm1(hh);
    auto h_phi_k = c.h_phi_1 / hh - 1;
    int64_t factorial = 1;
    c.B_h = bh1 ? hh : at::expm1(hh);
    std::vector<at::Tensor> R, b;
    for (int i = 1; i <= order; ++i) {
        R.push_back(at::pow(rk_all, static_cast<int64_t>(i - 1)));
        b.push_back(h_phi_k * factorial / c.B_h);
        factorial *= i + 1;
        h_phi_k = h_phi_k / hh - 1.0 / static_cast<double>(factorial);
    }
    c.R = at::stack(R);
    c.b = at::stack(b);
    if (!d1s.empty()) c.D1s = at::stack(d1s, 1);
    return c;
}

}  // namespace

at::Tensor UniPCMultistepScheduler::predict(const at::Tensor& x, int order, int index) const {
    const auto& m0 = model_outputs_.back();
    auto [alpha_t, sigma_t] = alpha_sigma(sigmas_[index + 1]);
    auto [alpha_s0, sigma_s0] = alpha_sigma(sigmas_[index]);
    auto lambda_t = alpha_t.log() - sigma_t.log();
    auto lambda_s0 = alpha_s0.log() - sigma_s0.log();
    std::vector<at::Tensor> lambda_si, m_i;
    for (int k = 1; k < order; ++k) {
        lambda_si.push_back(lambda(index - k));
        m_i.push_back(model_outputs_[model_outputs_.size() - 1 - k]);
    }
    auto c = coefficients(lambda_t, lambda_s0, lambda_si, m_i, m0, order, config_.predict_x0,
                          config_.solver_type == "bh1");
    at::Tensor pred_res;
    if (c.D1s.defined()) {
        at::Tensor rhos_p;
        if (order == 2)
            rhos_p = at::ones({1}, x.options().device(at::kCPU)) * 0.5;
        else
            rhos_p = at::linalg_solve(c.R.slice(0, 0, -1).slice(1, 0, -1), c.b.slice(0, 0, -1))
                         .to(x.scalar_type());
        pred_res = at::einsum("k,bkc...->bc...", {rhos_p.to(x.device()), c.D1s});
    }
    at::Tensor x_t;
    if (config_.predict_x0) {
        auto base = sigma_t / sigma_s0 * x - alpha_t * c.h_phi_1 * m0;
        x_t = pred_res.defined() ? base - alpha_t * c.B_h * pred_res : base - alpha_t * c.B_h * 0;
    } else {
        auto base = alpha_t / alpha_s0 * x - sigma_t * c.h_phi_1 * m0;
        x_t = pred_res.defined() ? base - sigma_t * c.B_h * pred_res : base - sigma_t * c.B_h * 0;
    }
    return x_t.to(x.scalar_type());
}

at::Tensor UniPCMultistepScheduler::correct(const at::Tensor& model_t,
                                            const at::Tensor& last_sample, int order,
                                            int index) const {
    const auto& m0 = model_outputs_.back();
    const auto& x = last_sample;
    auto [alpha_t, sigma_t] = alpha_sigma(sigmas_[index]);
    auto [alpha_s0, sigma_s0] = alpha_sigma(sigmas_[index - 1]);
    auto lambda_t = alpha_t.log() - sigma_t.log();
    auto lambda_s0 = alpha_s0.log() - sigma_s0.log();
    std::vector<at::Tensor> lambda_si, m_i;
    for (int k = 1; k < order; ++k) {
        lambda_si.push_back(lambda(index - (k + 1)));
        m_i.push_back(model_outputs_[model_outputs_.size() - 1 - k]);
    }
    auto c = coefficients(lambda_t, lambda_s0, lambda_si, m_i, m0, order, config_.predict_x0,
                          config_.solver_type == "bh1");
    at::Tensor rhos_c = order == 1 ? at::ones({1}, x.options().device(at::kCPU)) * 0.5
                                   : at::linalg_solve(c.R, c.b).to(x.scalar_type());
    auto d1_t = model_t - m0;
    auto last_rho = rhos_c[-1];
    at::Tensor res = c.D1s.defined() ? at::einsum("k,bkc...->bc...",
                                                  {rhos_c.slice(0, 0, -1).to(x.device()), c.D1s}) +
                                           last_rho * d1_t
                                     : last_rho * d1_t;
    at::Tensor x_t;
    if (config_.predict_x0)
        x_t = sigma_t / sigma_s0 * x - alpha_t * c.h_phi_1 * m0 - alpha_t * c.B_h * res;
    else
        x_t = alpha_t / alpha_s0 * x - sigma_t * c.h_phi_1 * m0 - sigma_t * c.B_h * res;
    return x_t.to(x.scalar_type());
}

at::Tensor UniPCMultistepScheduler::step(const at::Tensor& model_output, int step_index,
                                         const at::Tensor& sample) {
    check_index(step_index);
    if (next_index_ != -1 && step_index != next_index_)
        throw Error(
            ErrorCode::Internal,
            "UniPCMultistepScheduler: step " + std::to_string(step_index) + " after step " +
                std::to_string(next_index_ - 1) +
                "; multistep history needs consecutive steps (call set_timesteps to restart)");
    const auto& skip = config_.disable_corrector;
    const bool use_corrector = step_index > 0 && last_sample_.defined() &&
                               std::find(skip.begin(), skip.end(), step_index - 1) == skip.end();
    auto converted = convert_model_output(model_output, step_index, sample);
    auto x = use_corrector ? correct(converted, last_sample_, this_order_, step_index) : sample;

    std::rotate(model_outputs_.begin(), model_outputs_.begin() + 1, model_outputs_.end());
    model_outputs_.back() = converted;

    int order = config_.solver_order;
    if (config_.lower_order_final) order = std::min(order, num_steps() - step_index);
    this_order_ = std::min(order, lower_order_nums_ + 1);
    last_sample_ = x;
    auto prev = predict(x, this_order_, step_index);
    lower_order_nums_ = std::min(lower_order_nums_ + 1, config_.solver_order);
    next_index_ = step_index + 1;
    return prev;
}

at::Tensor UniPCMultistepScheduler::add_noise(const at::Tensor& clean, const at::Tensor& noise,
                                              int step_index) const {
    check_index(step_index);
    auto sigma = sigmas_.to(clean.scalar_type())[step_index];
    auto [alpha_t, sigma_t] = alpha_sigma(sigma);
    return alpha_t * clean + sigma_t * noise;
}

}  // namespace vmeval::sched
