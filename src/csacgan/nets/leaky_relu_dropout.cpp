// LeakyReLU followed by inverted dropout, forward and backward, in one pass each over
// bf16 activations on the CPU: see csacgan/nets/fused.py for why this is written by hand.
//
// forward(x, seed, threshold, scale, slope) -> (y, code)
//   y = bf16(bf16(leaky_relu(x)) * (keep ? scale : 0)), the same roundings as
//   F.leaky_relu followed by a multiply with a bf16 mask; code = keep | (x > 0) << 1.
//   Random numbers: SplitMix64 (Steele, Lea and Flood 2014) used as a counter-based
//   generator: word i = mix(seed + (i + 1) * gamma); word i holds the signed 16-bit draws
//   of units 4i .. 4i + 3 (little-endian chunks), and a unit is kept when its draw >= threshold.
// backward(grad, code, scale, slope) -> grad_x
//   bf16(bf16(grad * (keep ? scale : 0)) * (x > 0 ? 1 : slope)), as autograd computes it
//   through the multiply and leaky_relu_backward.
// Both work on the flat memory of dense tensors (any layout: y and code take x's strides;
// grad must have code's strides).
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <cstring>

namespace {
constexpr int64_t BLOCK = 1024;  // elements per block: 256 random words
constexpr uint64_t GAMMA = 0x9E3779B97F4A7C15ULL;

inline uint64_t mix(uint64_t z) {  // SplitMix64's output function (Steele, Lea and Flood 2014)
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
inline float bf16_to_float(uint16_t b) {
  uint32_t u = (uint32_t)b << 16; float f; std::memcpy(&f, &u, 4); return f;
}
inline uint16_t float_to_bf16(float f) {  // round to nearest even, as c10::BFloat16
  uint32_t u; std::memcpy(&u, &f, 4);
  uint32_t r = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  return ((u & 0x7FFFFFFFu) > 0x7F800000u) ? (uint16_t)0x7FC0 : (uint16_t)r;
}
}  // namespace

std::vector<at::Tensor> forward(const at::Tensor& x, int64_t seed, int64_t threshold, double scale, double slope) {
  TORCH_CHECK(x.scalar_type() == at::kBFloat16 && x.is_non_overlapping_and_dense(), "bf16 dense input expected");
  auto y = at::empty_like(x);
  auto code = at::empty_like(x, x.options().dtype(at::kByte));
  const int64_t n = x.numel();
  const uint16_t* xp = reinterpret_cast<const uint16_t*>(x.data_ptr<at::BFloat16>());
  uint16_t* yp = reinterpret_cast<uint16_t*>(y.data_ptr<at::BFloat16>());
  uint8_t* cp = code.data_ptr<uint8_t>();
  const float s = (float)scale, neg = (float)slope;
  const int16_t T = (int16_t)threshold;
  const uint64_t base = (uint64_t)seed;
  // Pointers copied into the lambdas and marked __restrict__, and selects written as bit
  // operations, so that GCC vectorizes both loops (captured by reference, with ternaries
  // on the computed values, they ran 15-30x slower).
  at::parallel_for(0, (n + BLOCK - 1) / BLOCK, 16, [=](int64_t b0, int64_t b1) {
    alignas(64) uint64_t words[BLOCK / 4];
    alignas(64) int16_t draws[BLOCK];
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t k0 = b * BLOCK, len = std::min<int64_t>(BLOCK, n - k0), w0 = k0 / 4;
      for (int64_t i = 0; i < BLOCK / 4; ++i) words[i] = mix(base + (uint64_t)(w0 + i + 1) * GAMMA);
      std::memcpy(draws, words, sizeof(words));
      const uint16_t* __restrict__ xb = xp + k0;
      uint16_t* __restrict__ yb = yp + k0;
      uint8_t* __restrict__ cb = cp + k0;
      for (int64_t j = 0; j < len; ++j) {
        const float v = bf16_to_float(xb[j]);
        const bool pos = v > 0.f;
        const float a = pos ? v : bf16_to_float(float_to_bf16(v * neg));
        const bool keep = draws[j] >= T;
        yb[j] = float_to_bf16(a * (keep ? s : 0.f));
        cb[j] = (uint8_t)((keep ? 1 : 0) | (pos ? 2 : 0));
      }
    }
  });
  return {y, code};
}

at::Tensor backward(const at::Tensor& g, const at::Tensor& code, double scale, double slope) {
  TORCH_CHECK(g.scalar_type() == at::kBFloat16 && g.strides() == code.strides(), "bf16 gradient in the mask's layout expected");
  auto dx = at::empty_like(g);
  const int64_t n = g.numel();
  const uint16_t* gp = reinterpret_cast<const uint16_t*>(g.data_ptr<at::BFloat16>());
  const uint8_t* cp = code.data_ptr<uint8_t>();
  uint16_t* dp = reinterpret_cast<uint16_t*>(dx.data_ptr<at::BFloat16>());
  const float s = (float)scale, neg = (float)slope, one = 1.f;
  uint32_t sbits, negbits, onebits;
  std::memcpy(&sbits, &s, 4); std::memcpy(&negbits, &neg, 4); std::memcpy(&onebits, &one, 4);
  at::parallel_for(0, n, 16384, [=](int64_t k0, int64_t k1) {
    const uint16_t* __restrict__ gb = gp;
    const uint8_t* __restrict__ cb = cp;
    uint16_t* __restrict__ db = dp;
    for (int64_t k = k0; k < k1; ++k) {
      const uint32_t c = cb[k];
      const uint32_t keep = 0u - (c & 1u), pos = 0u - ((c >> 1) & 1u);  // all ones or zero
      float m, f;
      const uint32_t mb = sbits & keep, fb = (onebits & pos) | (negbits & ~pos);  // 1.f: t is already bf16, so exact
      std::memcpy(&m, &mb, 4); std::memcpy(&f, &fb, 4);
      const uint16_t t = float_to_bf16(bf16_to_float(gb[k]) * m);
      db[k] = float_to_bf16(bf16_to_float(t) * f);
    }
  });
  return dx;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &forward);
  m.def("backward", &backward);
}
