/*
 * One step of a small llama-family model (Llama, Qwen2/3, Mistral layers) in WebAssembly SIMD:
 * the computation of models/inference-graphs.ts' step graph for models too small for
 * onnxruntime's per-kernel dispatch (stories260K's decode step is ~93 kernels of ~1 µs each, its
 * arithmetic ~100 µs). New tokens [B, T] attend over a KV cache [B, Hkv, C, hd] per layer and
 * to each other, as the additive biases [B, T, C + T] say (holes, padding, sliding window, the
 * same biases the onnxruntime path gets); the step returns the new tokens' keys/values and
 * log-probs at chosen rows. wasm-decoder.ts lays out memory and calls step().
 *
 * Built by scripts/build-wasm.ts (clang --target=wasm32 -nostdlib -msimd128 -O3); no libc, so
 * exp and log are written here. Every pointer is an offset into the module's memory.
 */
#include <wasm_simd128.h>

typedef struct {
  const float *attention_norm, *wq, *wk, *wv, *wo, *bq, *bk, *bv, *bo, *q_norm, *k_norm;
  const float *mlp_norm, *w_gate, *w_up, *w_down;
  int windowed; /* reads the window bias instead of the full one */
} Layer;

typedef struct {
  int dim, hidden, layers, heads, kv_heads, head_dim, vocab;
  float eps, scale;
  const float *embed, *final_norm, *head, *rope_cos, *rope_sin; /* rope tables [positions, hd/2] */
  const Layer *layer;
} Model;

typedef struct {
  int batch, length, capacity, used;
  const int *ids, *positions;          /* [B, T] */
  const float *bias, *window_bias;     /* [B, T, C + T] (0 where the model has no such layers) */
  float *cache;                        /* per layer keys then values, each [B, Hkv, C, hd] */
  float *new_kv;                       /* out [B, T, L, 2, Hkv, hd] */
  int next_count;
  const int *next_rows;                /* [M] flattened b·T + i */
  float *next_logprobs;                /* out [M, V] */
  int score_count;
  const int *score_rows, *targets;     /* [N] */
  float *target_logprobs;              /* out [N] */
  float *scratch;
  int write_cache; /* also write the new keys/values into the cache's columns used..used+T−1 (they fit) */
} Step;

/* ---- elementary functions ---- */

/* e^x on four lanes: 2^n · p(r), r = x − n·ln2, |r| ≤ ln2/2, Taylor to degree 7 (rel. error < 1e-8) */
static inline v128_t exp4(v128_t x) {
  x = wasm_f32x4_pmax(wasm_f32x4_pmin(x, wasm_f32x4_splat(88.0f)), wasm_f32x4_splat(-87.0f));
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.0f / 5040);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 720));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 120));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 24));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 6));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.5f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, scale);
}

static inline float expf1(float x) { return wasm_f32x4_extract_lane(exp4(wasm_f32x4_splat(x)), 0); }

/* natural log of a positive finite x, in double: x = m·2^e with m in [√½, √2), log m = 2·atanh(s) */
static __attribute__((noinline)) double log_positive(double x) {
  union { double d; unsigned long long u; } bits = {x};
  int e = (int)((bits.u >> 52) & 0x7ff) - 1023;
  bits.u = (bits.u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
  double m = bits.d;
  if (m > 1.41421356237309505) {
    m *= 0.5;
    e++;
  }
  double s = (m - 1) / (m + 1), s2 = s * s;
  double series = 1.0 / 15;
  for (int k = 13; k >= 1; k -= 2) series = series * s2 + 1.0 / k;
  return 2 * s * series + e * 0.693147180559945309;
}

static inline float hsum(v128_t v) {
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(v, 0);
}

static inline float dot(const float *a, const float *b, int n) {
  v128_t s0 = wasm_f32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
  int k = 0;
  for (; k + 16 <= n; k += 16) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + k), wasm_v128_load(b + k)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + k + 4), wasm_v128_load(b + k + 4)));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(wasm_v128_load(a + k + 8), wasm_v128_load(b + k + 8)));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(wasm_v128_load(a + k + 12), wasm_v128_load(b + k + 12)));
  }
  for (; k + 4 <= n; k += 4) s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + k), wasm_v128_load(b + k)));
  float sum = hsum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
  for (; k < n; k++) sum += a[k] * b[k];
  return sum;
}

/* y += a·x */
static inline void axpy(float *y, float a, const float *x, int n) {
  v128_t av = wasm_f32x4_splat(a);
  int k = 0;
  for (; k + 4 <= n; k += 4)
    wasm_v128_store(y + k, wasm_f32x4_add(wasm_v128_load(y + k), wasm_f32x4_mul(av, wasm_v128_load(x + k))));
  for (; k < n; k++) y[k] += a * x[k];
}

/* [Σa, Σb, Σc, Σd]: the lane sums of four vectors, by two transposing adds */
static inline v128_t sum4(v128_t a, v128_t b, v128_t c, v128_t d) {
  v128_t ab = wasm_f32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
  v128_t cd = wasm_f32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
  return wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

/* out [n, rows] = x [n, cols] · Wᵀ (+ bias), W [rows, cols] row-major as HF stores [out, in]: four
   rows of W at a time against every token (they stay in L1 across tokens), and four rows share
   each load of a token */
static __attribute__((noinline)) void matmul(float *out, const float *w, const float *x, const float *bias, int n,
                                             int rows, int cols) {
  int r = 0;
  if (cols % 4 == 0)
    for (; r + 4 <= rows; r += 4) {
      const float *w0 = w + r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
      const v128_t b = bias ? wasm_v128_load(bias + r) : wasm_f32x4_splat(0);
      for (int t = 0; t < n; t++) {
        const float *xt = x + t * cols;
        v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < cols; k += 4) {
          v128_t xv = wasm_v128_load(xt + k);
          a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(w0 + k), xv));
          a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load(w1 + k), xv));
          a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_v128_load(w2 + k), xv));
          a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_v128_load(w3 + k), xv));
        }
        wasm_v128_store(out + t * rows + r, wasm_f32x4_add(sum4(a0, a1, a2, a3), b));
      }
    }
  for (; r < rows; r++)
    for (int t = 0; t < n; t++) out[t * rows + r] = dot(w + r * cols, x + t * cols, cols) + (bias ? bias[r] : 0.0f);
}

static __attribute__((noinline)) void rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
  float scale = 1.0f / __builtin_sqrtf(dot(x, x, n) / n + eps);
  for (int k = 0; k < n; k++) out[k] = x[k] * scale * w[k];
}

/* HF's rotate-half RoPE of each head of x [heads, hd] at one position */
static __attribute__((noinline)) void rope(float *x, int heads, int hd, const float *cos, const float *sin) {
  int half = hd / 2;
  for (int h = 0; h < heads; h++) {
    float *v = x + h * hd;
    for (int i = 0; i < half; i++) {
      float a = v[i], b = v[i + half];
      v[i] = a * cos[i] - b * sin[i];
      v[i + half] = b * cos[i] + a * sin[i];
    }
  }
}

/* Σ e^(x − max) over n values; with `store`, x ← e^(x − max) too */
static __attribute__((noinline)) float exp_shifted(float *x, int n, float max, int store) {
  v128_t m = wasm_f32x4_splat(max), sum = wasm_f32x4_splat(0);
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    v128_t e = exp4(wasm_f32x4_sub(wasm_v128_load(x + k), m));
    if (store) wasm_v128_store(x + k, e);
    sum = wasm_f32x4_add(sum, e);
  }
  float total = hsum(sum);
  for (; k < n; k++) {
    float e = expf1(x[k] - max);
    if (store) x[k] = e;
    total += e;
  }
  return total;
}

static float max_of(const float *x, int n) {
  v128_t mv = wasm_f32x4_splat(x[0]);
  int k = 0;
  for (; k + 4 <= n; k += 4) mv = wasm_f32x4_pmax(mv, wasm_v128_load(x + k));
  mv = wasm_f32x4_pmax(mv, wasm_i32x4_shuffle(mv, mv, 2, 3, 0, 1));
  mv = wasm_f32x4_pmax(mv, wasm_i32x4_shuffle(mv, mv, 1, 0, 3, 2));
  float m = wasm_f32x4_extract_lane(mv, 0);
  for (; k < n; k++) m = x[k] > m ? x[k] : m;
  return m;
}

/* gate ← silu(gate)·up */
static __attribute__((noinline)) void swiglu(float *gate, const float *up, int n) {
  v128_t one = wasm_f32x4_splat(1.0f);
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    v128_t g = wasm_v128_load(gate + k);
    v128_t silu = wasm_f32x4_div(g, wasm_f32x4_add(one, exp4(wasm_f32x4_neg(g))));
    wasm_v128_store(gate + k, wasm_f32x4_mul(silu, wasm_v128_load(up + k)));
  }
  for (; k < n; k++) gate[k] = gate[k] / (1.0f + expf1(-gate[k])) * up[k];
}

/* ---- attention of one query head ---- */

/* the keys/values one query head sees: its KV head's cached columns, then the step's new tokens */
typedef struct {
  const float *past_k, *past_v; /* [C, hd] of this row and KV head */
  const float *new_k, *new_v;   /* new token j at + j·stride */
  int past, fresh, stride, capacity;
} Keys;

static inline const float *key_of(const Keys *k, int c, int hd) {
  return c < k->past ? k->past_k + c * hd : k->new_k + (c - k->past) * k->stride;
}
static inline const float *value_of(const Keys *k, int c, int hd) {
  return c < k->past ? k->past_v + c * hd : k->new_v + (c - k->past) * k->stride;
}
/* bias column of key c: past columns as they are, new tokens after the cache's capacity */
static inline int bias_column(const Keys *k, int c) { return c < k->past ? c : k->capacity + c - k->past; }

/* softmax(q·Kᵀ·scale + bias)·V for a head size HD ≤ 16, a multiple of 4, known at compile time */
static inline __attribute__((always_inline)) void attend(float *out, const float *q, const Keys *keys,
                                                         const float *bias, float *scores, float scale,
                                                         const int HD) {
  const int n = keys->past + keys->fresh, chunks = HD / 4;
  v128_t qv[4];
  for (int j = 0; j < chunks; j++) qv[j] = wasm_f32x4_mul(wasm_v128_load(q + 4 * j), wasm_f32x4_splat(scale));
  int c = 0;
  /* four keys at a time: four partial-sum vectors reduced together by two transposing adds */
  for (; c + 4 <= keys->past; c += 4) {
    v128_t acc[4];
    for (int r = 0; r < 4; r++) {
      const float *kr = keys->past_k + (c + r) * HD;
      v128_t a = wasm_f32x4_mul(qv[0], wasm_v128_load(kr));
      for (int j = 1; j < chunks; j++) a = wasm_f32x4_add(a, wasm_f32x4_mul(qv[j], wasm_v128_load(kr + 4 * j)));
      acc[r] = a;
    }
    wasm_v128_store(scores + c, wasm_f32x4_add(sum4(acc[0], acc[1], acc[2], acc[3]), wasm_v128_load(bias + c)));
  }
  for (; c < n; c++) {
    const float *kc = key_of(keys, c, HD);
    v128_t a = wasm_f32x4_mul(qv[0], wasm_v128_load(kc));
    for (int j = 1; j < chunks; j++) a = wasm_f32x4_add(a, wasm_f32x4_mul(qv[j], wasm_v128_load(kc + 4 * j)));
    scores[c] = hsum(a) + bias[bias_column(keys, c)];
  }
  const float inv = 1.0f / exp_shifted(scores, n, max_of(scores, n), 1);
  v128_t acc[4];
  for (int j = 0; j < chunks; j++) acc[j] = wasm_f32x4_splat(0);
  for (c = 0; c < n; c++) {
    const float *vc = value_of(keys, c, HD);
    v128_t p = wasm_f32x4_splat(scores[c]);
    for (int j = 0; j < chunks; j++) acc[j] = wasm_f32x4_add(acc[j], wasm_f32x4_mul(p, wasm_v128_load(vc + 4 * j)));
  }
  for (int j = 0; j < chunks; j++) wasm_v128_store(out + 4 * j, wasm_f32x4_mul(acc[j], wasm_f32x4_splat(inv)));
}

/* small head sizes of tiny models, each its own function (V8 compiles and tiers up per function) */
static __attribute__((noinline)) void attend8(float *out, const float *q, const Keys *keys, const float *bias,
                                              float *scores, float scale) {
  attend(out, q, keys, bias, scores, scale, 8);
}
static __attribute__((noinline)) void attend16(float *out, const float *q, const Keys *keys, const float *bias,
                                               float *scores, float scale) {
  attend(out, q, keys, bias, scores, scale, 16);
}

/* the same for any even head size */
static __attribute__((noinline)) void attend_any(float *out, const float *q, const Keys *keys, const float *bias, float *scores, float scale,
                       int hd) {
  const int n = keys->past + keys->fresh;
  for (int c = 0; c < n; c++) scores[c] = dot(q, key_of(keys, c, hd), hd) * scale + bias[bias_column(keys, c)];
  const float inv = 1.0f / exp_shifted(scores, n, max_of(scores, n), 1);
  for (int d = 0; d < hd; d++) out[d] = 0;
  for (int c = 0; c < n; c++) axpy(out, scores[c] * inv, value_of(keys, c, hd), hd);
}

/* ---- the step ---- */

/* log-softmax of the LM head at the final hidden state x [D] into out [V] (logits first) */
static __attribute__((noinline)) void head_logprobs(const Model *m, const float *x, float *out) {
  matmul(out, m->head, x, 0, 1, m->vocab, m->dim);
  float max = max_of(out, m->vocab);
  float shift = max + (float)log_positive(exp_shifted(out, m->vocab, max, 0));
  for (int k = 0; k < m->vocab; k++) out[k] -= shift;
}

__attribute__((export_name("step"))) void step(const Model *m, const Step *s) {
  const int B = s->batch, T = s->length, N = B * T, C = s->capacity, P = s->used;
  const int D = m->dim, F = m->hidden, H = m->heads, Hkv = m->kv_heads, hd = m->head_dim, L = m->layers;
  const int group = H / Hkv, half = hd / 2, S = C + T, kvWidth = L * 2 * Hkv * hd;
  /* scratch: residual x [N, D], normed [N, D], q [N, H·hd], k/v [N, Hkv·hd], attended [N, H·hd],
     gate/up [N, F], scores [S] */
  float *x = s->scratch, *normed = x + N * D, *q = normed + N * D, *k = q + N * H * hd, *v = k + N * Hkv * hd;
  float *attended = v + N * Hkv * hd, *gate = attended + N * H * hd, *up = gate + N * F, *scores = up + N * F;

  for (int t = 0; t < N; t++) {
    const float *e = m->embed + s->ids[t] * D;
    for (int d = 0; d < D; d++) x[t * D + d] = e[d];
  }
  for (int l = 0; l < L; l++) {
    const Layer *w = &m->layer[l];
    const float *bias = w->windowed ? s->window_bias : s->bias;
    float *pastK = s->cache + (long)l * 2 * B * Hkv * C * hd, *pastV = pastK + B * Hkv * C * hd;
    for (int t = 0; t < N; t++) rmsnorm(normed + t * D, x + t * D, w->attention_norm, D, m->eps);
    matmul(q, w->wq, normed, w->bq, N, H * hd, D);
    matmul(k, w->wk, normed, w->bk, N, Hkv * hd, D);
    matmul(v, w->wv, normed, w->bv, N, Hkv * hd, D);
    for (int t = 0; t < N; t++) {
      float *qt = q + t * H * hd, *kt = k + t * Hkv * hd, *vt = v + t * Hkv * hd;
      if (w->q_norm) {
        for (int hh = 0; hh < H; hh++) rmsnorm(qt + hh * hd, qt + hh * hd, w->q_norm, hd, m->eps);
        for (int hh = 0; hh < Hkv; hh++) rmsnorm(kt + hh * hd, kt + hh * hd, w->k_norm, hd, m->eps);
      }
      const int p = s->positions[t];
      rope(qt, H, hd, m->rope_cos + p * half, m->rope_sin + p * half);
      rope(kt, Hkv, hd, m->rope_cos + p * half, m->rope_sin + p * half);
      float *out = s->new_kv + t * kvWidth + l * 2 * Hkv * hd;
      for (int j = 0; j < Hkv * hd; j++) {
        out[j] = kt[j];
        out[Hkv * hd + j] = vt[j];
      }
      /* where the caller will append this step's keys/values to the same cache, the kernel's copy
         of it is brought up to date here instead of by a copy from JS before the next step;
         attention below reads only columns before `used`, so writing past them is safe */
      if (s->write_cache) {
        const int b = t / T, column = P + t % T;
        for (int hh = 0; hh < Hkv; hh++) {
          float *ck = pastK + ((long)(b * Hkv + hh) * C + column) * hd;
          float *cv = pastV + ((long)(b * Hkv + hh) * C + column) * hd;
          for (int d = 0; d < hd; d++) {
            ck[d] = kt[hh * hd + d];
            cv[d] = vt[hh * hd + d];
          }
        }
      }
    }
    for (int t = 0; t < N; t++) {
      const int b = t / T, i = t % T;
      const float *row = bias + (long)(b * T + i) * S;
      for (int hh = 0; hh < H; hh++) {
        const int kh = hh / group;
        const Keys keys = {
            .past_k = pastK + (long)(b * Hkv + kh) * C * hd,
            .past_v = pastV + (long)(b * Hkv + kh) * C * hd,
            .new_k = k + b * T * Hkv * hd + kh * hd,
            .new_v = v + b * T * Hkv * hd + kh * hd,
            .past = P,
            .fresh = T,
            .stride = Hkv * hd,
            .capacity = C,
        };
        float *out = attended + t * H * hd + hh * hd, *qh = q + t * H * hd + hh * hd;
        switch (hd) { /* constant head sizes let clang keep a head's accumulators in registers */
        case 8: attend8(out, qh, &keys, row, scores, m->scale); break;
        case 16: attend16(out, qh, &keys, row, scores, m->scale); break;
        default: attend_any(out, qh, &keys, row, scores, m->scale, hd);
        }
      }
    }
    matmul(normed, w->wo, attended, w->bo, N, D, H * hd);
    for (int t = 0; t < N; t++) {
      float *xt = x + t * D, *h = normed + t * D;
      for (int d = 0; d < D; d++) xt[d] += h[d];
      rmsnorm(h, xt, w->mlp_norm, D, m->eps);
    }
    matmul(gate, w->w_gate, normed, 0, N, F, D);
    matmul(up, w->w_up, normed, 0, N, F, D);
    swiglu(gate, up, N * F);
    matmul(normed, w->w_down, gate, 0, N, D, F);
    for (int t = 0; t < N; t++)
      for (int d = 0; d < D; d++) x[t * D + d] += normed[t * D + d];
  }
  /* the head only where asked: full log-probs at next_rows, the target's at score_rows */
  float *logprobs = scores; /* [V] fits: scratch is sized for max(S, V) */
  for (int r = 0; r < s->next_count; r++) {
    rmsnorm(normed, x + s->next_rows[r] * D, m->final_norm, D, m->eps);
    head_logprobs(m, normed, s->next_logprobs + (long)r * m->vocab);
  }
  for (int r = 0; r < s->score_count; r++) {
    rmsnorm(normed, x + s->score_rows[r] * D, m->final_norm, D, m->eps);
    head_logprobs(m, normed, logprobs);
    s->target_logprobs[r] = logprobs[s->targets[r]];
  }
}
