"""PyTorch reference for `alignkit bench` training figures: one training step (forward,
backward, AdamW) of the same llama-shaped and GPT-2-small-shaped models, written in plain
PyTorch (no transformers), eager mode. Prints one JSON line per configuration.

  /usr/bin/python3 scripts/bench-train-torch.py [llama|gpt2|all] [--steps N] [--threads 1,2]
  /usr/bin/python3 scripts/bench-train-torch.py sft-process --data BATCHES.json --steps N --out FILE
  /usr/bin/python3 scripts/bench-train-torch.py profile [llama|gpt2] [--vocab V] [--steps N]

The second form is a whole SFT run as `alignkit bench --section training` times it against
`alignkit train sft`: start python, build the llama-shaped model with a 512-token vocabulary,
N AdamW steps (weight decay 0.01, gradients clipped to norm 1) over the given token batches,
save the weights.

The third form profiles N steps (after 3 warm-up steps) with torch.profiler and prints where a
step's time goes by operator (matmuls' share first), to set beside onnxruntime's own profile.

Debian's python3-torch (1.13, OpenBLAS): `apt-get install -y python3-torch libopenblas0-pthread`.
The fastest setup on a 2-core machine is torch 1 thread with OpenBLAS at its default (2 threads).
Not used by tests or CI.
"""
import json, math, statistics, sys, time
import torch
import torch.nn.functional as F

SHAPES = {
    "llama": dict(family="llama", d=256, layers=4, heads=4, ffn=1024, vocab=32000, batch=8, seq=128),
    "gpt2": dict(family="gpt2", d=768, layers=12, heads=12, ffn=3072, vocab=50257, batch=8, seq=128),
}

def param(*shape, std=0.02):
    return torch.nn.Parameter(torch.randn(*shape) * std)

class Llama(torch.nn.Module):
    def __init__(s, c):
        super().__init__()
        d, f, v = c["d"], c["ffn"], c["vocab"]
        s.c = c
        s.embed = param(v, d)
        s.layers = torch.nn.ModuleList()
        for _ in range(c["layers"]):
            m = torch.nn.Module()
            m.ln1, m.ln2 = torch.nn.Parameter(torch.ones(d)), torch.nn.Parameter(torch.ones(d))
            m.q, m.k, m.v, m.o = param(d, d), param(d, d), param(d, d), param(d, d)
            m.gate, m.up, m.down = param(f, d), param(f, d), param(d, f)
            s.layers.append(m)
        s.norm = torch.nn.Parameter(torch.ones(d))
        s.head = param(v, d)
        hd = d // c["heads"]
        inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
        ang = torch.outer(torch.arange(c["seq"]).float(), inv)
        ang = torch.cat([ang, ang], -1)
        s.cos, s.sin = ang.cos(), ang.sin()

    @staticmethod
    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

    def rope(s, x):
        h = x.shape[-1] // 2
        rot = torch.cat([-x[..., h:], x[..., :h]], -1)
        return x * s.cos + rot * s.sin

    def forward(s, ids):
        B, T = ids.shape
        H = s.c["heads"]
        x = s.embed[ids]
        mask = torch.full((T, T), float("-inf")).triu(1)
        for m in s.layers:
            h = s.rms(x, m.ln1)
            q, k, v = [(h @ w.t()).view(B, T, H, -1).transpose(1, 2) for w in (m.q, m.k, m.v)]
            q, k = s.rope(q), s.rope(k)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + mask, -1) @ v
            x = x + att.transpose(1, 2).reshape(B, T, -1) @ m.o.t()
            h = s.rms(x, m.ln2)
            x = x + (F.silu(h @ m.gate.t()) * (h @ m.up.t())) @ m.down.t()
        return s.rms(x, s.norm), s.head

class Gpt2(torch.nn.Module):
    def __init__(s, c):
        super().__init__()
        d, f, v = c["d"], c["ffn"], c["vocab"]
        s.c = c
        s.wte, s.wpe = param(v, d), param(1024, d)
        s.layers = torch.nn.ModuleList()
        for _ in range(c["layers"]):
            m = torch.nn.Module()
            m.ln1w, m.ln1b = torch.nn.Parameter(torch.ones(d)), torch.nn.Parameter(torch.zeros(d))
            m.ln2w, m.ln2b = torch.nn.Parameter(torch.ones(d)), torch.nn.Parameter(torch.zeros(d))
            m.attn_w, m.attn_b = param(d, 3 * d), torch.nn.Parameter(torch.zeros(3 * d))
            m.proj_w, m.proj_b = param(d, d), torch.nn.Parameter(torch.zeros(d))
            m.fc_w, m.fc_b = param(d, f), torch.nn.Parameter(torch.zeros(f))
            m.out_w, m.out_b = param(f, d), torch.nn.Parameter(torch.zeros(d))
            s.layers.append(m)
        s.lnfw, s.lnfb = torch.nn.Parameter(torch.ones(d)), torch.nn.Parameter(torch.zeros(d))

    def forward(s, ids):
        B, T = ids.shape
        d, H = s.c["d"], s.c["heads"]
        x = s.wte[ids] + s.wpe[torch.arange(T)]
        mask = torch.full((T, T), float("-inf")).triu(1)
        for m in s.layers:
            h = F.layer_norm(x, (d,), m.ln1w, m.ln1b, 1e-5)
            q, k, v = [t.view(B, T, H, -1).transpose(1, 2) for t in (h @ m.attn_w + m.attn_b).split(d, -1)]
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + mask, -1) @ v
            x = x + att.transpose(1, 2).reshape(B, T, d) @ m.proj_w + m.proj_b
            h = F.layer_norm(x, (d,), m.ln2w, m.ln2b, 1e-5)
            x = x + F.gelu(h @ m.fc_w + m.fc_b, approximate="tanh") @ m.out_w + m.out_b
        return F.layer_norm(x, (d,), s.lnfw, s.lnfb, 1e-5), s.wte

def trainer(model, c, lr, weight_decay, clip):
    """One SFT step on a token batch (forward, loss, backward, optional clipping, AdamW); returns the loss."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    def step(ids):
        hidden, head = model(ids)
        logits = hidden[:, :-1] @ head.t()
        loss = F.cross_entropy(logits.reshape(-1, c["vocab"]), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss
    return step

def build(name, vocab=None, seq=None):
    c = dict(SHAPES[name], **({"vocab": vocab} if vocab else {}), **({"seq": seq} if seq else {}))
    return (Llama if c["family"] == "llama" else Gpt2)(c), c

def bench(name, threads, steps):
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    model, c = build(name)
    step = trainer(model, c, lr=1e-4, weight_decay=0.0, clip=False)
    ids = torch.randint(0, c["vocab"], (c["batch"], c["seq"]))
    times = []
    for i in range(steps + 3):
        t0 = time.perf_counter()
        loss = step(ids)
        if i >= 3:
            times.append((time.perf_counter() - t0) * 1000)
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"model": name, "threads": threads, "median_ms": statistics.median(times), "min_ms": min(times), "steps": steps, "params": params, "loss": loss.item()}), flush=True)

def profile(name, vocab, steps):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model, c = build(name, vocab)
    step = trainer(model, c, lr=1e-3, weight_decay=0.01, clip=True)
    ids = torch.randint(0, c["vocab"], (c["batch"], c["seq"]))
    for _ in range(3):
        step(ids)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as p:
        for _ in range(steps):
            step(ids)
    ops = p.key_averages()
    total = sum(e.self_cpu_time_total for e in ops)
    matmul = sum(e.self_cpu_time_total for e in ops if e.key in ("aten::mm", "aten::bmm", "aten::addmm"))
    print(json.dumps({"model": name, "vocab": c["vocab"], "self_ms_per_step": total / steps / 1000, "matmul_share": matmul / total}))
    print(ops.table(sort_by="self_cpu_time_total", row_limit=15))

def sft_process(data_file, steps, out):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    with open(data_file) as f:
        batches = json.load(f)
    model, c = build("llama", 512, len(batches[0][0]))
    step = trainer(model, c, lr=1e-3, weight_decay=0.01, clip=True)
    for i in range(steps):
        loss = step(torch.tensor(batches[i % len(batches)]))
    torch.save(model.state_dict(), out)
    print(json.dumps({"steps": steps, "loss": loss.item()}), flush=True)

if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "sft-process":
        sft_process(args[args.index("--data") + 1], int(args[args.index("--steps") + 1]), args[args.index("--out") + 1])
        sys.exit(0)
    if args and args[0] == "profile":
        which = args[1] if len(args) > 1 and not args[1].startswith("--") else "llama"
        vocab = int(args[args.index("--vocab") + 1]) if "--vocab" in args else None
        profile(which, vocab, int(args[args.index("--steps") + 1]) if "--steps" in args else 5)
        sys.exit(0)
    which = args[0] if args and not args[0].startswith("--") else "all"
    steps = int(args[args.index("--steps") + 1]) if "--steps" in args else 10
    threads = [int(t) for t in (args[args.index("--threads") + 1] if "--threads" in args else "1,2").split(",")]
    for name in (SHAPES if which == "all" else [which]):
        for t in threads:
            bench(name, t, steps)
