"""Independent GPT-2 forward pass in plain PyTorch (no transformers), used once to produce the
golden log-probs in test/fixtures/gpt2-random-golden.json. Reads an HF GPT-2 directory
(config.json + model.safetensors, float32).

  /usr/bin/python3 scripts/torch-gpt2-reference.py DIR TOKENS...  > golden.json
"""
import json, math, struct, sys
import torch

torch.set_num_threads(2)
d = sys.argv[1]
tokens = [int(t) for t in sys.argv[2:]]
cfg = json.load(open(f"{d}/config.json"))
raw = open(f"{d}/model.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
base = 8 + n
W = {}
for name, meta in header.items():
    if name == "__metadata__":
        continue
    a, b = meta["data_offsets"]
    W[name.removeprefix("transformer.")] = torch.frombuffer(bytearray(raw[base + a:base + b]), dtype=torch.float32).reshape(meta["shape"]).double()

D, H, L, eps = cfg["n_embd"], cfg["n_head"], cfg["n_layer"], cfg["layer_norm_epsilon"]
hd = D // H
T = len(tokens)
ids = torch.tensor(tokens)

def ln(x, p):
    return torch.nn.functional.layer_norm(x, (D,), W[p + ".weight"], W[p + ".bias"], eps)

def gelu_new(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))

x = W["wte.weight"][ids] + W["wpe.weight"][torch.arange(T)]
mask = torch.full((T, T), float("-inf")).triu(1)
for l in range(L):
    p = f"h.{l}."
    qkv = ln(x, p + "ln_1") @ W[p + "attn.c_attn.weight"] + W[p + "attn.c_attn.bias"]
    q, k, v = [t.reshape(T, H, hd).transpose(0, 1) for t in qkv.split(D, dim=-1)]
    att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, dim=-1) @ v
    x = x + att.transpose(0, 1).reshape(T, D) @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]
    h = gelu_new(ln(x, p + "ln_2") @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"])
    x = x + h @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]
logits = ln(x, "ln_f") @ W["wte.weight"].T
logprobs = torch.log_softmax(logits, dim=-1)
print(json.dumps({"tokens": tokens, "logprobs": [[round(v, 7) for v in row] for row in logprobs.tolist()]}))
