#include "models/torch/schedulers/euler_discrete.hpp"

#include <cmath>

#include "vmeval/core/error.hpp"

namespace vmeval::sched {

EulerDiscreteConfig EulerDiscreteConfig::from(const nn::ConfigFile& config) {
    EulerDiscreteConfig c;
    c.betas = BetaConfig::from(config, BetaConfig{});
    c.prediction_type = config_choice(config, "prediction_type", c.prediction_type,
                                      {"epsilon", "v_prediction", "sample", "original_sample"});
    c.interpolation_type =
        config_choice(config, "interpolation_type", c.interpolation_type, {"linear", "log_linear"});
    c.use_karras_sigmas = config.get<bool>("use_karras_sigmas", c.use_karras_sigmas);
    c.use_exponential_sigmas = config.get<bool>("use_exponential_sigmas", c.use_exponential_sigmas);
    c.sigma_min = config_optional(config, "sigma_min");
    c.sigma_max = config_optional(config, "sigma_max");
    c.timestep_spacing = config_choice(config, "timestep_spacing", c.timestep_spacing,
                                       {"linspace", "leading", "trailing"});
    c.timestep_type =
        config_choice(config, "timestep_type", c.timestep_type, {"discrete", "continuous"});
    c.steps_offset = config.get<int64_t>("steps_offset", c.steps_offset);
    c.final_sigmas_type =
        config_choice(config, "final_sigmas_type", c.final_sigmas_type, {"zero", "sigma_min"});
    reject_flag(config, "use_beta_sigmas", "needs scipy's beta quantiles");
    if (c.use_karras_sigmas && c.use_exponential_sigmas)
        throw Error(
            ErrorCode::Config,
            config.path().string() +
                ": only one of 'use_karras_sigmas' and 'use_exponential_sigmas' may be true");
    return c;
}

EulerDiscreteScheduler::EulerDiscreteScheduler(EulerDiscreteConfig config)
    : config_(std::move(config)) {
    auto betas = make_betas(config_.betas);
    if (config_.betas.rescale_betas_zero_snr) betas = rescale_zero_terminal_snr(betas);
    alphas_cumprod_ = at::cumprod(1.0 - betas, 0);
    // A zero terminal alpha would make the last sigma infinite; diffusers pins it just above zero.
    if (config_.betas.rescale_betas_zero_snr) alphas_cumprod_[-1] = std::pow(2.0, -24);
}

bool EulerDiscreteScheduler::continuous_timesteps() const {
    return config_.timestep_type == "continuous" && config_.prediction_type == "v_prediction";
}

void EulerDiscreteScheduler::set_timesteps(int steps, const at::Device& device,
                                           std::optional<double>) {
    if (steps < 1)
        throw Error(ErrorCode::Config, "EulerDiscreteScheduler: steps must be at least 1");
    const int64_t n_train = config_.betas.num_train_timesteps;
    std::vector<double> timesteps;  // float32 values held in doubles
    if (config_.timestep_spacing == "linspace") {
        auto grid = np_linspace(0, static_cast<double>(n_train - 1), steps);
        for (auto it = grid.rbegin(); it != grid.rend(); ++it)
            timesteps.push_back(static_cast<float>(*it));
    } else if (config_.timestep_spacing == "leading") {
        const int64_t ratio = n_train / steps;
        for (int64_t i = steps - 1; i >= 0; --i)
            timesteps.push_back(static_cast<float>(static_cast<float>(i * ratio) +
                                                   static_cast<float>(config_.steps_offset)));
    } else {
        const double ratio = static_cast<double>(n_train) / steps;
        for (double t : np_arange(static_cast<double>(n_train), 0, -ratio))
            timesteps.push_back(static_cast<float>(static_cast<float>(np_round(t)) - 1.0f));
    }

    auto train_sigmas_t = ((1 - alphas_cumprod_) / alphas_cumprod_).pow(0.5);
    auto train_sigmas = to_vector(train_sigmas_t);
    auto log_sigmas_t = train_sigmas_t.log().contiguous();
    std::vector<float> log_sigmas(log_sigmas_t.data_ptr<float>(),
                                  log_sigmas_t.data_ptr<float>() + log_sigmas_t.numel());

    std::vector<double> sigmas;
    if (config_.interpolation_type == "linear") {
        for (double t : timesteps) sigmas.push_back(np_interp_index(t, train_sigmas));
    } else {
        const double lo = std::log(static_cast<float>(train_sigmas.back()));
        const double hi = std::log(static_cast<float>(train_sigmas.front()));
        sigmas = to_vector(
            at::linspace(static_cast<float>(lo), static_cast<float>(hi), steps + 1, at::kFloat)
                .exp());
    }
    if (config_.use_karras_sigmas || config_.use_exponential_sigmas) {
        const double lo = config_.sigma_min.value_or(sigmas.back());
        const double hi = config_.sigma_max.value_or(sigmas.front());
        sigmas = config_.use_karras_sigmas ? karras_sigmas(lo, hi, steps)
                                           : exponential_sigmas(lo, hi, steps);
        timesteps.clear();
        for (double s : sigmas) timesteps.push_back(sigma_to_t(s, log_sigmas));
    }
    double last = 0;
    if (config_.final_sigmas_type == "sigma_min")
        last = ((1 - alphas_cumprod_[0]) / alphas_cumprod_[0]).pow(0.5).item<double>();
    sigmas.push_back(last);
    sigmas_ = to_tensor(sigmas, at::kFloat);

    if (continuous_timesteps())
        timesteps_ = (sigmas_.slice(0, 0, -1).log() * 0.25).to(device);
    else
        timesteps_ = to_tensor(timesteps, at::kFloat).to(device);
}

double EulerDiscreteScheduler::init_noise_sigma() const {
    if (!sigmas_.defined())
        throw Error(ErrorCode::Internal, "EulerDiscreteScheduler: set_timesteps() was not called");
    auto max_sigma = sigmas_.max();
    if (config_.timestep_spacing == "linspace" || config_.timestep_spacing == "trailing")
        return max_sigma.item<double>();
    return (max_sigma.pow(2) + 1).pow(0.5).item<double>();
}

at::Tensor EulerDiscreteScheduler::scale_model_input(const at::Tensor& sample,
                                                     int step_index) const {
    check_index(step_index);
    auto sigma = sigmas_[step_index];
    return sample / (sigma.pow(2) + 1).pow(0.5);
}

at::Tensor EulerDiscreteScheduler::step(const at::Tensor& model_output, int step_index,
                                        const at::Tensor& sample) {
    check_index(step_index);
    auto x = sample.to(at::kFloat);
    auto sigma = sigmas_[step_index];
    auto sigma_hat = sigma * 1.0;  // s_churn = 0: no noise is added back, so sigma_hat = sigma
    at::Tensor pred_original;
    const auto& type = config_.prediction_type;
    if (type == "epsilon")
        pred_original = x - sigma_hat * model_output;
    else if (type == "v_prediction")
        pred_original =
            model_output * (-sigma / (sigma.pow(2) + 1).pow(0.5)) + (x / (sigma.pow(2) + 1));
    else
        pred_original = model_output;
    auto derivative = (x - pred_original) / sigma_hat;
    auto dt = sigmas_[step_index + 1] - sigma_hat;
    return (x + derivative * dt).to(model_output.scalar_type());
}

at::Tensor EulerDiscreteScheduler::add_noise(const at::Tensor& clean, const at::Tensor& noise,
                                             int step_index) const {
    check_index(step_index);
    auto sigma = sigmas_.to(clean.scalar_type())[step_index];
    return clean + noise * sigma;
}

}  // namespace vmeval::sched
