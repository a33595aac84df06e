#pragma once

// The numeric pieces the diffusers schedulers share, reproduced with the same dtypes and the same
// order of operations: diffusers mixes numpy float64 (timestep grids, interpolation, Karras
// ramps) with torch float32 (betas, alphas_cumprod), and the last bits of a schedule depend on
// which one a step runs in.

#include <ATen/ATen.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "models/torch/runtime/config.hpp"

namespace vmeval::sched {

/// numpy.linspace(start, stop, num) in float64 (i * step + start, the last value set to stop).
std::vector<double> np_linspace(double start, double stop, int64_t num);
/// numpy.arange(start, stop, step) for floats: start + i * ((start + step) - start).
std::vector<double> np_arange(double start, double stop, double step);
/// numpy.round: halves go to the even neighbour.
double np_round(double x);
/// numpy.interp(x, [0, 1, ..., n-1], fp) in float64.
double np_interp_index(double x, const std::vector<double>& fp);
/// Scheduler `_sigma_to_t`: the fractional train timestep whose log-sigma brackets `sigma`.
/// `log_sigmas` is the float32 table; the bracket width is a float32 difference as in numpy.
double sigma_to_t(double sigma, const std::vector<float>& log_sigmas);
/// Karras et al. (2022) rho=7 ramp from sigma_max down to sigma_min, float64.
std::vector<double> karras_sigmas(double sigma_min, double sigma_max, int64_t num);
/// exp(linspace(log sigma_max, log sigma_min, num)), float64.
std::vector<double> exponential_sigmas(double sigma_min, double sigma_max, int64_t num);

/// The resolution shift of flow-matching sigmas: with `mu` the dynamic time shift
/// (exponential: e^mu / (e^mu + 1/s - 1); linear: mu / (mu + 1/s - 1)), else the static
/// shift * s / (1 + (shift - 1) s). Scalars take the tensor's dtype, as numpy's weak floats do.
at::Tensor shift_flow_sigmas(const at::Tensor& sigmas, std::optional<double> mu,
                             const std::string& time_shift_type, double shift);
/// Stretches shifted sigmas so the last one lands on `terminal` (LTX's shift_terminal).
at::Tensor stretch_to_terminal(const at::Tensor& sigmas, double terminal);

/// 1-D tensor of `values` as `dtype` on the CPU (values pass through float64 first).
at::Tensor to_tensor(const std::vector<double>& values, at::ScalarType dtype);
std::vector<double> to_vector(const at::Tensor& t);

/// The beta fields of a DDPM-family scheduler_config.json.
struct BetaConfig {
    int64_t num_train_timesteps = 1000;
    double beta_start = 0.0001;
    double beta_end = 0.02;
    std::string beta_schedule = "linear";
    std::vector<double> trained_betas;  ///< empty unless the config lists them
    bool rescale_betas_zero_snr = false;

    /// Reads the fields, falling back to `defaults` (the class's own defaults) when absent.
    static BetaConfig from(const nn::ConfigFile& config, const BetaConfig& defaults);
};

/// The betas diffusers builds for `cfg` (float32; `scaled_linear_dtype` is float64 for the
/// CogVideoX schedulers, which square in double).
at::Tensor make_betas(const BetaConfig& cfg, at::ScalarType scaled_linear_dtype = at::kFloat);
/// Lin et al. (2023) zero terminal SNR: rescales betas so the last step is pure noise.
at::Tensor rescale_zero_terminal_snr(const at::Tensor& betas);

/// Imagen dynamic thresholding of a predicted x0 (per sample quantile clamp), as diffusers does it.
at::Tensor threshold_sample(const at::Tensor& sample, double ratio, double max_value);

/// A string key that must be one of `allowed`; throws Error(Config) naming the file and the
/// choices.
std::string config_choice(const nn::ConfigFile& config, const std::string& key,
                          const std::string& fallback, std::initializer_list<const char*> allowed);
/// An optional number (absent or null gives nullopt).
std::optional<double> config_optional(const nn::ConfigFile& config, const std::string& key);
/// Throws Error(Config) when `key` is set to true: the feature is outside what vmeval runs.
void reject_flag(const nn::ConfigFile& config, const std::string& key, const std::string& why);

}  // namespace vmeval::sched
