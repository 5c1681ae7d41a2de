"""PyTorch reference for `alignkit bench --section families`: a model directory written by the
bench (config.json + bf16 model.safetensors with random weights of a published model's shapes:
SmolLM2-360M, Qwen2.5-0.5B, Qwen3-0.6B, Llama-3.2-1B, Gemma-3-1B) run in plain PyTorch, eager,
no_grad, float32, with a KV cache, as the same engine figures as alignkit's side:

  load      read the safetensors (bf16 -> float32) into tensors
  prefill   128 tokens of one sequence, full-vocabulary log-softmax at the last position
  decode    one token per sequence per step after a 16-token prefill, full-vocabulary
            log-softmax, for 1 and for 8 sequences
  peak RSS  of this process

Prints one JSON line; each timing is the fastest repetition, the best over --threads (default 1,2).

  /usr/bin/python3 scripts/bench-families-torch.py --dir DIR [--threads 1,2] [--reps 3]

The forward pass follows transformers' modeling code for the families used (llama with llama3
RoPE scaling, qwen2 biases, qwen3 q/k norms, gemma3 norms, scaling and local/global layers).
Not used by tests or CI.
"""
import importlib.util, json, math, os, resource, struct, sys, time
import numpy as np
import torch

# the figures are measured as the engine bench's reference measures them (scripts/bench-infer-torch.py)
_spec = importlib.util.spec_from_file_location("engine", os.path.join(os.path.dirname(__file__), "bench-infer-torch.py"))
engine = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(engine)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        raw = np.frombuffer(data, dtype={"BF16": np.uint16, "F16": np.float16, "F32": np.float32}[t["dtype"]], count=(b - a) // {"BF16": 2, "F16": 2, "F32": 4}[t["dtype"]], offset=a)
        if t["dtype"] == "BF16":
            raw = (raw.astype(np.uint32) << 16).view(np.float32)
        out[name] = torch.from_numpy(raw.astype(np.float32, copy=False).reshape(t["shape"]))
    return out


def inverse_frequencies(theta, hd, scaling):
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    if scaling and scaling.get("rope_type", scaling.get("type")) == "llama3":
        s = scaling
        low, high = s["original_max_position_embeddings"] / s["low_freq_factor"], s["original_max_position_embeddings"] / s["high_freq_factor"]
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > low, inv / s["factor"], inv)
        smooth = (s["original_max_position_embeddings"] / wavelen - s["low_freq_factor"]) / (s["high_freq_factor"] - s["low_freq_factor"])
        medium = ~(wavelen < high) & ~(wavelen > low)
        inv = torch.where(medium, (1 - smooth) * scaled / s["factor"] + smooth * scaled, scaled)
    elif scaling:
        raise SystemExit(f"rope_scaling {scaling} not in this reference")
    return inv.float()


class Decoder:
    def __init__(s, cfg, w):
        s.c, s.w = cfg, w
        s.family = cfg["model_type"]
        s.gemma = s.family.startswith("gemma")
        s.H, s.KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        s.hd = cfg.get("head_dim") or cfg["hidden_size"] // s.H
        s.eps = cfg["rms_norm_eps"]
        s.L = cfg["num_hidden_layers"]
        s.scale = cfg.get("query_pre_attn_scalar", s.hd) ** -0.5
        pattern = cfg.get("sliding_window_pattern", 6)
        s.sliding = [s.gemma and (l + 1) % pattern != 0 for l in range(s.L)]
        s.window = cfg.get("sliding_window")
        pos = torch.arange(1024).float()
        def tables(theta, scaling):
            ang = torch.outer(pos, inverse_frequencies(theta, s.hd, scaling))
            ang = torch.cat([ang, ang], -1)
            return ang.cos(), ang.sin()
        s.global_rope = tables(cfg.get("rope_theta", 10000), cfg.get("rope_scaling"))
        s.local_rope = tables(cfg.get("rope_local_base_freq", 10000), None) if s.gemma else s.global_rope
        s.head = w.get("lm_head.weight", w["model.embed_tokens.weight"])

    def norm(s, x, name):
        w = s.w[name]
        y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + s.eps)
        return y * (1 + w) if s.gemma else y * w

    def linear(s, x, name):
        y = x @ s.w[name + ".weight"].t()
        b = s.w.get(name + ".bias")
        return y if b is None else y + b

    @staticmethod
    def rope(x, cos, sin):
        h = x.shape[-1] // 2
        return x * cos + torch.cat([-x[..., h:], x[..., :h]], -1) * sin

    def forward(s, ids, cache):
        B, T = ids.shape
        P = 0 if cache is None else cache[0][0].shape[2]
        pos = torch.arange(P, P + T)
        causal = torch.full((T, P + T), float("-inf")).triu(P + 1)
        x = s.w["model.embed_tokens.weight"][ids]
        if s.gemma:
            x = x * torch.tensor(s.c["hidden_size"] ** 0.5)
        new_cache = []
        for l in range(s.L):
            p = f"model.layers.{l}."
            h = s.norm(x, p + "input_layernorm.weight")
            q = s.linear(h, p + "self_attn.q_proj").view(B, T, s.H, s.hd)
            k = s.linear(h, p + "self_attn.k_proj").view(B, T, s.KV, s.hd)
            v = s.linear(h, p + "self_attn.v_proj").view(B, T, s.KV, s.hd).transpose(1, 2)
            if p + "self_attn.q_norm.weight" in s.w:
                q, k = s.norm(q, p + "self_attn.q_norm.weight"), s.norm(k, p + "self_attn.k_norm.weight")
            cos, sin = s.local_rope if s.sliding[l] else s.global_rope
            q, k = s.rope(q.transpose(1, 2), cos[pos], sin[pos]), s.rope(k.transpose(1, 2), cos[pos], sin[pos])
            if cache is not None:
                k, v = torch.cat([cache[l][0], k], 2), torch.cat([cache[l][1], v], 2)
            new_cache.append((k, v))
            mask = causal
            if s.sliding[l] and s.window:
                mask = mask + torch.full((T, P + T), float("-inf")).tril(P - s.window)
            rep = s.H // s.KV
            kk, vv = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
            att = torch.softmax(q @ kk.transpose(-1, -2) * (s.scale if s.gemma else s.hd ** -0.5) + mask, -1) @ vv
            o = s.linear(att.transpose(1, 2).reshape(B, T, -1), p + "self_attn.o_proj")
            if s.gemma:
                o = s.norm(o, p + "post_attention_layernorm.weight")
            x = x + o
            h = s.norm(x, p + ("pre_feedforward_layernorm.weight" if s.gemma else "post_attention_layernorm.weight"))
            gate = s.linear(h, p + "mlp.gate_proj")
            act = torch.nn.functional.gelu(gate, approximate="tanh") if s.gemma else torch.nn.functional.silu(gate)
            m = s.linear(act * s.linear(h, p + "mlp.up_proj"), p + "mlp.down_proj")
            if s.gemma:
                m = s.norm(m, p + "post_feedforward_layernorm.weight")
            x = x + m
        return s.norm(x, "model.norm.weight"), new_cache


if __name__ == "__main__":
    args = sys.argv[1:]
    directory = args[args.index("--dir") + 1]
    threads = [int(t) for t in (args[args.index("--threads") + 1] if "--threads" in args else "1,2").split(",")]
    reps = int(args[args.index("--reps") + 1]) if "--reps" in args else 3
    cfg = json.load(open(f"{directory}/config.json"))
    t0 = time.perf_counter()
    weights = read_safetensors(f"{directory}/model.safetensors")
    load_ms = (time.perf_counter() - t0) * 1000
    model = Decoder(cfg, weights)
    with torch.no_grad():
        runs = {t: engine.measure(model, t, reps, vocab=cfg["vocab_size"], scoring=False, decode_steps=8) for t in threads}
    best = {key: min(r[key] for r in runs.values()) for key in next(iter(runs.values()))}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({**best, "load_ms": load_ms, "peak_rss_bytes": peak, "threads": {str(t): r for t, r in runs.items()}}), flush=True)
