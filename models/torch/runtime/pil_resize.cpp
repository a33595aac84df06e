#include "models/torch/runtime/pil_resize.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "vmeval/core/error.hpp"

namespace vmeval::nn {

namespace {

constexpr int kPrecisionBits =
    32 - 8 - 2;  // PIL's Resample.c: fixed-point weights for 8-bit pixels
constexpr double kPi = 3.14159265358979323846;

double sinc(double x) {
    if (x == 0.0) return 1.0;
    x *= kPi;
    return std::sin(x) / x;
}

double lanczos(double x) { return (x >= -3.0 && x < 3.0) ? sinc(x) * sinc(x / 3.0) : 0.0; }

/// PIL's bicubic kernel (a = -0.5).
double bicubic(double x) {
    constexpr double a = -0.5;
    x = std::abs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

struct Filter {
    double (*kernel)(double);
    double support;
};

Filter filter_of(PilFilter f) {
    return f == PilFilter::Lanczos ? Filter{&lanczos, 3.0} : Filter{&bicubic, 2.0};
}

/// One output pixel's window into the input and its fixed-point weights.
struct Taps {
    int64_t first = 0;
    std::vector<int64_t> weights;
};

std::vector<Taps> precompute(int64_t in, int64_t out, Filter filter) {
    const double scale = static_cast<double>(in) / static_cast<double>(out);
    const double filterscale = std::max(scale, 1.0);
    const double support = filter.support * filterscale;
    const double ss = 1.0 / filterscale;
    std::vector<Taps> taps(static_cast<std::size_t>(out));
    for (int64_t xx = 0; xx < out; ++xx) {
        const double center = (static_cast<double>(xx) + 0.5) * scale;
        // PIL truncates toward zero here (C casts), including below zero before clamping.
        int64_t xmin = static_cast<int64_t>(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int64_t xmax = static_cast<int64_t>(center + support + 0.5);
        if (xmax > in) xmax = in;
        std::vector<double> k(static_cast<std::size_t>(std::max<int64_t>(xmax - xmin, 0)));
        double total = 0.0;
        for (std::size_t x = 0; x < k.size(); ++x) {
            k[x] =
                filter.kernel((static_cast<double>(x) + static_cast<double>(xmin) - center + 0.5) * ss);
            total += k[x];
        }
        auto& t = taps[static_cast<std::size_t>(xx)];
        t.first = xmin;
        for (double w : k) {
            const double v = total != 0.0 ? w / total : 0.0;
            const double fixed = v * static_cast<double>(int64_t{1} << kPrecisionBits);
            t.weights.push_back(static_cast<int64_t>(v < 0 ? fixed - 0.5 : fixed + 0.5));
        }
    }
    return taps;
}

uint8_t clip8(int64_t ss) {
    const int64_t v = ss >> kPrecisionBits;
    return static_cast<uint8_t>(std::clamp<int64_t>(v, 0, 255));
}

/// Resamples along axis 1 (x) of a contiguous [rows, cols, channels] uint8 buffer.
std::vector<uint8_t> resample_rows(const std::vector<uint8_t>& src, int64_t rows, int64_t cols,
                                   int64_t ch, int64_t out_cols, Filter filter) {
    const auto taps = precompute(cols, out_cols, filter);
    std::vector<uint8_t> dst(static_cast<std::size_t>(rows * out_cols * ch));
    for (int64_t y = 0; y < rows; ++y)
        for (int64_t x = 0; x < out_cols; ++x) {
            const auto& t = taps[static_cast<std::size_t>(x)];
            for (int64_t c = 0; c < ch; ++c) {
                int64_t ss = int64_t{1} << (kPrecisionBits - 1);
                for (std::size_t i = 0; i < t.weights.size(); ++i)
                    ss += src[static_cast<std::size_t>(
                              (y * cols + t.first + static_cast<int64_t>(i)) * ch + c)] *
                          t.weights[i];
                dst[static_cast<std::size_t>((y * out_cols + x) * ch + c)] = clip8(ss);
            }
        }
    return dst;
}

/// Resamples along axis 0 (y).
std::vector<uint8_t> resample_cols(const std::vector<uint8_t>& src, int64_t rows, int64_t cols,
                                   int64_t ch, int64_t out_rows, Filter filter) {
    const auto taps = precompute(rows, out_rows, filter);
    std::vector<uint8_t> dst(static_cast<std::size_t>(out_rows * cols * ch));
    for (int64_t y = 0; y < out_rows; ++y) {
        const auto& t = taps[static_cast<std::size_t>(y)];
        for (int64_t x = 0; x < cols; ++x)
            for (int64_t c = 0; c < ch; ++c) {
                int64_t ss = int64_t{1} << (kPrecisionBits - 1);
                for (std::size_t i = 0; i < t.weights.size(); ++i)
                    ss += src[static_cast<std::size_t>(
                              ((t.first + static_cast<int64_t>(i)) * cols + x) * ch + c)] *
                          t.weights[i];
                dst[static_cast<std::size_t>((y * cols + x) * ch + c)] = clip8(ss);
            }
    }
    return dst;
}

}  // namespace

at::Tensor pil_resize(const at::Tensor& image, int64_t height, int64_t width, PilFilter filter) {
    if (image.dim() != 3 || image.scalar_type() != at::kByte)
        throw Error(ErrorCode::Internal, "pil_resize: image must be [H, W, C] uint8");
    if (height <= 0 || width <= 0)
        throw Error(ErrorCode::Config, "pil_resize: the target size must be positive");
    const int64_t rows = image.size(0), cols = image.size(1), ch = image.size(2);
    if (rows == height && cols == width) return image.clone();
    auto src = image.to(at::kCPU).contiguous();
    std::vector<uint8_t> buf(src.data_ptr<uint8_t>(), src.data_ptr<uint8_t>() + src.numel());
    int64_t r = rows, c = cols;
    if (c != width) {
        buf = resample_rows(buf, r, c, ch, width, filter_of(filter));
        c = width;
    }
    if (r != height) {
        buf = resample_cols(buf, r, c, ch, height, filter_of(filter));
        r = height;
    }
    return at::from_blob(buf.data(), {r, c, ch}, at::kByte).clone();
}

}  // namespace vmeval::nn
