"""PyTorch reference for `alignkit bench` engine figures: the llama-shaped model of GPT-2-small
size (d 768, 12 layers, 12 heads, SwiGLU 3072, vocab 50257, random weights) in plain PyTorch,
eager mode, no_grad, with a KV cache:

  prefill   128 tokens of one sequence, full-vocabulary log-softmax at the last position
  scoring   8 sequences of 128 tokens, log-probs of every next token (log-softmax at every position)
  decode    one token per sequence per step after a 16-token prefill, full-vocabulary log-softmax,
            for 1 and for 8 sequences

Prints one JSON line: each figure's fastest repetition, in ms, the best over --threads (default
1,2; the fastest setup on 2 cores is torch 1 thread with OpenBLAS at its default). The fastest
of a few repetitions is what `alignkit bench` reports for its own side too: on a shared machine
it is the figure least disturbed by other work.

  /usr/bin/python3 scripts/bench-infer-torch.py [--threads 1,2] [--reps 3]

Debian's python3-torch (1.13, OpenBLAS): `apt-get install -y python3-torch libopenblas0-pthread`.
Not used by tests or CI.
"""
import json, math, sys, time
import torch

D, LAYERS, HEADS, FFN, VOCAB = 768, 12, 12, 3072, 50257
HD = D // HEADS


class Llama:
    def __init__(s):
        torch.manual_seed(0)
        w = lambda *shape: torch.randn(*shape) * 0.02
        s.embed, s.head = w(VOCAB, D), w(VOCAB, D)
        s.layers = [dict(q=w(D, D), k=w(D, D), v=w(D, D), o=w(D, D), gate=w(FFN, D), up=w(FFN, D), down=w(D, FFN),
                         ln1=torch.ones(D), ln2=torch.ones(D)) for _ in range(LAYERS)]
        s.norm = torch.ones(D)
        inv = 1.0 / (10000 ** (torch.arange(0, HD, 2).float() / HD))
        ang = torch.outer(torch.arange(1024).float(), inv)
        ang = torch.cat([ang, ang], -1)
        s.cos, s.sin = ang.cos(), ang.sin()

    @staticmethod
    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

    def rope(s, x, pos):
        h = HD // 2
        rot = torch.cat([-x[..., h:], x[..., :h]], -1)
        return x * s.cos[pos] + rot * s.sin[pos]

    def forward(s, ids, cache):
        """ids [B, T] after `cache` (a list of (k, v) [B, H, P, hd] per layer, or None): hidden [B, T, D], new cache."""
        B, T = ids.shape
        P = 0 if cache is None else cache[0][0].shape[2]
        pos = torch.arange(P, P + T)
        mask = torch.full((T, P + T), float("-inf")).triu(P + 1)
        x = s.embed[ids]
        new_cache = []
        for l, m in enumerate(s.layers):
            h = s.rms(x, m["ln1"])
            q, k, v = [(h @ m[n].t()).view(B, T, HEADS, HD).transpose(1, 2) for n in ("q", "k", "v")]
            q, k = s.rope(q, pos), s.rope(k, pos)
            if cache is not None:
                k, v = torch.cat([cache[l][0], k], 2), torch.cat([cache[l][1], v], 2)
            new_cache.append((k, v))
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(HD) + mask, -1) @ v
            x = x + att.transpose(1, 2).reshape(B, T, D) @ m["o"].t()
            h = s.rms(x, m["ln2"])
            x = x + (torch.nn.functional.silu(h @ m["gate"].t()) * (h @ m["up"].t())) @ m["down"].t()
        return s.rms(x, s.norm), new_cache


def timed(f, reps):
    f()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append((time.perf_counter() - t0) * 1000)
    return min(times)


def decode_ms(model, ids, rows, steps=16):
    """ms per step of one token per row (full-vocabulary log-softmax) after a 16-token prefill."""
    _, cache = model.forward(ids(rows, 16), None)
    t0 = time.perf_counter()
    for _ in range(steps):
        hidden, cache = model.forward(ids(rows, 1), cache)
        torch.log_softmax(hidden[:, -1] @ model.head.t(), -1)
    return (time.perf_counter() - t0) * 1000 / steps


def measure(model, threads, reps, vocab=VOCAB, scoring=True, decode_steps=16):
    """The engine figures of `model` (forward(ids, cache) -> hidden, cache; .head [vocab, D])."""
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(1)
    ids = lambda b, t: torch.randint(2, vocab, (b, t), generator=g)

    def prefill():
        hidden, _ = model.forward(ids(1, 128), None)
        torch.log_softmax(hidden[:, -1] @ model.head.t(), -1)

    def score():
        seqs = ids(8, 128)
        hidden, _ = model.forward(seqs, None)
        lp = torch.log_softmax(hidden[:, :-1] @ model.head.t(), -1)
        lp.gather(-1, seqs[:, 1:, None])

    decode = lambda rows: decode_ms(model, ids, rows, decode_steps)

    decode(1)
    return {
        "prefill128_ms": timed(prefill, reps),
        **({"score8x128_ms": timed(score, max(1, reps - 1))} if scoring else {}),
        "decode1_ms": min(decode(1) for _ in range(reps)),
        "decode8_ms": min(decode(8) for _ in range(reps)),
    }


if __name__ == "__main__":
    args = sys.argv[1:]
    threads = [int(t) for t in (args[args.index("--threads") + 1] if "--threads" in args else "1,2").split(",")]
    reps = int(args[args.index("--reps") + 1]) if "--reps" in args else 3
    model = Llama()
    with torch.no_grad():
        runs = {t: measure(model, t, reps) for t in threads}
    best = {key: min(r[key] for r in runs.values()) for key in next(iter(runs.values()))}
    print(json.dumps({**best, "threads": {str(t): r for t, r in runs.items()}}), flush=True)
