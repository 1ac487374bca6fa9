#!/usr/bin/env python3
"""tools/bench_torch.py: the Llama block of kernels/stage.h in plain PyTorch, timed.

    python3 tools/bench_torch.py [--orion] [--d D --ffn F --heads H --kv-heads K
                                  --seq T --seqs B --blocks N] [--reps R]
                                  [--dtype bf16|fp32] [--peak-tflops X]
                                  [--gqa repeat|native] [--separate-proj] [--compile]
                                  [--device cuda:0] [--no-optimizer]

The counterpart of build/bench_kernels on a GPU: the same block (RMSNorm, fused QKV
projection, rotate-half RoPE, causal grouped-query attention through
torch.nn.functional.scaled_dot_product_attention(is_causal=True), output projection,
residual, RMSNorm, fused gate/up projection, SwiGLU, down projection, residual; no
biases; weights [out, in]) at the same shape (default: one Orion-100B block, d 9216,
ffn 32256, 72/8 heads, 10 x 800 tokens, bf16), timed with CUDA events, best of R after a
warm-up (a call under 2 ms is repeated back to back inside one timing).

Measurements, named as bench_kernels names them:
  gemm_gate_up, gemm_down  F.linear at the block's two largest shapes (the GEMM rate)
  forward                  under torch.no_grad() (nothing kept)
  backward_kept            y.backward(dout, retain_graph=True) after one forward, repeated
                           (gradients accumulate, as the stage's do)
  fwd_bwd_kept             forward + backward, activations kept by autograd
  fwd_bwd_recompute        torch.utils.checkpoint (non-reentrant) forward + backward
  backward_recompute       fwd_bwd_recompute - forward (derived)
  optimizer                torch.optim.AdamW (fused where available) over fp32 master
                           copies of the block's parameters, then the bf16 working
                           weights refreshed from them (what ks_optimizer_step does)
FLOPs follow kernels/model.c's hardware convention (2 per multiply-add, causal
attention at half the score matrix, elementwise work not counted, the optimizer at 12
per parameter), so TFLOP/s compare one to one with bench_kernels.

Grouped-query attention repeats the kv heads (query head h reads kv head
h // (heads / kv_heads), as the stage does) unless --gqa native, which passes
enable_gqa=True (PyTorch >= 2.5).

Output: an aligned table and lines
  BENCH impl=torch name=forward seconds=... flops=... tflops=... pct_gemm=... backend=cuda
        dtype=bf16 shape=d9216_f32256_h72x8_t800x10_n1
Exit code: 0; 1 if torch or a CUDA device is missing; 2 on bad flags.
"""

import argparse
import math
import sys

OPTIMIZER_FLOPS_PER_PARAM = 12
MIN_TIMED_S = 2e-3
MAX_INNER = 200


def positive_int(s):
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a positive integer, got %r" % s)
    if v <= 0:
        raise argparse.ArgumentTypeError("expected a positive integer, got %r" % s)
    return v


def positive_float(s):
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a positive number, got %r" % s)
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError("expected a positive number, got %r" % s)
    return v


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench_torch.py",
        description="Time the orionsim Llama block in plain PyTorch (see the top of this file).")
    p.add_argument("--orion", action="store_true",
                   help="Orion-100B's block (the default): d 9216, ffn 32256, 72/8 heads, 10 x 800 tokens")
    p.add_argument("--d", type=positive_int)
    p.add_argument("--ffn", type=positive_int)
    p.add_argument("--heads", type=positive_int)
    p.add_argument("--kv-heads", type=positive_int)
    p.add_argument("--seq", type=positive_int)
    p.add_argument("--seqs", type=positive_int)
    p.add_argument("--blocks", type=positive_int, default=1)
    p.add_argument("--reps", type=positive_int, default=5)
    p.add_argument("--dtype", choices=["bf16", "fp32"], default="bf16")
    p.add_argument("--peak-tflops", type=positive_float, help="the device's dense peak, to print %% of peak")
    p.add_argument("--gqa", choices=["repeat", "native"], default="repeat")
    p.add_argument("--separate-proj", action="store_true",
                   help="separate q, k, v and gate, up projections instead of fused ones")
    p.add_argument("--compile", action="store_true", help="wrap the blocks in torch.compile")
    p.add_argument("--device", default="cuda:0")
    p.add_argument("--no-optimizer", action="store_true", help="skip the optimizer step")
    a = p.parse_args(argv)
    a.d = a.d or 9216
    a.ffn = a.ffn or 32256
    a.heads = a.heads or 72
    a.kv_heads = a.kv_heads or 8
    a.seq = a.seq or 800
    a.seqs = a.seqs or 10
    if a.d % a.heads:
        p.error("--d %d is not a multiple of --heads %d (head_dim = d / heads)" % (a.d, a.heads))
    if a.heads % a.kv_heads:
        p.error("--kv-heads %d must divide --heads %d" % (a.kv_heads, a.heads))
    if (a.d // a.heads) % 2:
        p.error("head_dim %d must be even (RoPE)" % (a.d // a.heads))
    return a


def block_flops(d, ffn, nh, nkv, hd, T, n_tokens, blocks):
    """Hardware FLOPs of the forward of `blocks` blocks (kernels/model.c)."""
    matmul = d * (nh + 2 * nkv) * hd + nh * hd * d + 3 * d * ffn
    attention = 2.0 * nh * hd * T * n_tokens  # causal QK^T and AV
    return blocks * (2.0 * matmul * n_tokens + attention)


def main(argv):
    a = parse_args(argv)
    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.utils.checkpoint as ckpt
    except ImportError as e:
        print("bench_torch: cannot import torch (%s)" % e, file=sys.stderr)
        return 1
    if not torch.cuda.is_available():
        print("bench_torch: torch %s sees no CUDA device" % torch.__version__, file=sys.stderr)
        return 1
    dev = torch.device(a.device)
    if dev.type != "cuda":
        print("bench_torch: --device must be a CUDA device, got %r" % a.device, file=sys.stderr)
        return 2
    torch.cuda.set_device(dev)
    dt = torch.bfloat16 if a.dtype == "bf16" else torch.float32
    d, ffn, nh, nkv, T, B = a.d, a.ffn, a.heads, a.kv_heads, a.seq, a.seqs
    hd = d // nh
    N = B * T
    theta, eps = 5e5, 1e-5
    gqa_native = a.gqa == "native"

    class RMSNorm(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(dim))

        def forward(self, x):
            xf = x.float()
            y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
            return y.to(x.dtype) * self.weight

    # RoPE tables: angle t * theta^(-2i/hd) for pairs (i, i + hd/2), computed in double
    inv = torch.tensor([theta ** (-2.0 * i / hd) for i in range(hd // 2)], dtype=torch.float64)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
    cos = ang.cos().to(dev, dt)[None, :, None, :]  # [1, T, 1, hd/2]
    sin = ang.sin().to(dev, dt)[None, :, None, :]

    def rope(x):  # x [B, T, heads, hd]
        x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
        return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn_norm = RMSNorm(d)
            if a.separate_proj:
                self.wq = nn.Linear(d, nh * hd, bias=False)
                self.wk = nn.Linear(d, nkv * hd, bias=False)
                self.wv = nn.Linear(d, nkv * hd, bias=False)
                self.w_gate = nn.Linear(d, ffn, bias=False)
                self.w_up = nn.Linear(d, ffn, bias=False)
            else:
                self.wqkv = nn.Linear(d, (nh + 2 * nkv) * hd, bias=False)
                self.w_gate_up = nn.Linear(d, 2 * ffn, bias=False)
            self.wo = nn.Linear(nh * hd, d, bias=False)
            self.mlp_norm = RMSNorm(d)
            self.w_down = nn.Linear(ffn, d, bias=False)

        def forward(self, x):  # x [B, T, d]
            h = self.attn_norm(x)
            if a.separate_proj:
                q, k, v = self.wq(h), self.wk(h), self.wv(h)
            else:
                q, k, v = self.wqkv(h).split([nh * hd, nkv * hd, nkv * hd], dim=-1)
            q = rope(q.view(B, T, nh, hd)).transpose(1, 2)
            k = rope(k.view(B, T, nkv, hd)).transpose(1, 2)
            v = v.view(B, T, nkv, hd).transpose(1, 2)
            if gqa_native:
                o = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
            else:
                if nh != nkv:
                    k = k.repeat_interleave(nh // nkv, dim=1)
                    v = v.repeat_interleave(nh // nkv, dim=1)
                o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.wo(o.transpose(1, 2).reshape(B, T, nh * hd))
            h = self.mlp_norm(x)
            if a.separate_proj:
                g, u = self.w_gate(h), self.w_up(h)
            else:
                g, u = self.w_gate_up(h).chunk(2, dim=-1)
            return x + self.w_down(F.silu(g) * u)

    torch.manual_seed(1234)
    model = nn.Sequential(*[Block() for _ in range(a.blocks)])
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * (a.blocks + 2)) if name.endswith(("wo.weight", "w_down.weight")) else 0.02
                p.normal_(0.0, std)
    model = model.to(dev, dt)
    params = list(model.parameters())
    n_params = sum(p.numel() for p in params)
    fwd_model = torch.compile(model) if a.compile else model

    x = ((torch.rand(B, T, d, device=dev) - 0.5) * 2.0).to(dt).requires_grad_(True)
    dout = ((torch.rand(B, T, d, device=dev) - 0.5) * 0.01).to(dt)

    def time_best(fn, reps):
        """Seconds per call: one warm-up call, best of reps timings (CUDA events)."""
        torch.cuda.synchronize()
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        warm = s.elapsed_time(e) / 1e3
        inner = 1
        if warm < MIN_TIMED_S:
            inner = MAX_INNER if warm <= 0 else min(MAX_INNER, int(math.ceil(MIN_TIMED_S / warm)))
        best = float("inf")
        for _ in range(reps):
            s.record()
            for _ in range(inner):
                fn()
            e.record()
            e.synchronize()
            best = min(best, s.elapsed_time(e) / 1e3 / inner)
        return best

    def clear_grads():
        for p in params:
            p.grad = None
        x.grad = None

    rows = []  # (name, seconds, flops, gbs)
    f_fwd = block_flops(d, ffn, nh, nkv, hd, T, N, a.blocks)

    # 1. reference GEMMs (y = x W^T as nn.Linear)
    wide = max(2 * ffn, d)
    gx = ((torch.rand(N, wide, device=dev) - 0.5) * 2.0).to(dt)
    gw = ((torch.rand(2 * ffn, d, device=dev) - 0.5) * 0.04).to(dt)
    xa, wa = gx[:, :d], gw
    xb, wb = gx[:, :ffn], gw.view(-1)[: d * ffn].view(d, ffn)
    xa, xb = xa.contiguous(), xb.contiguous()
    with torch.no_grad():
        t = time_best(lambda: F.linear(xa, wa), a.reps)
        rows.append(("gemm_gate_up", t, 2.0 * N * 2 * ffn * d, 0.0))
        t = time_best(lambda: F.linear(xb, wb), a.reps)
        rows.append(("gemm_down", t, 2.0 * N * d * ffn, 0.0))
    del gx, gw, xa, wa, xb, wb
    gemm_tflops = max(r[2] / r[1] for r in rows) / 1e12

    # 2. forward, nothing kept
    def fwd_nograd():
        with torch.no_grad():
            fwd_model(x)

    t_fwd = time_best(fwd_nograd, a.reps)
    rows.append(("forward", t_fwd, f_fwd, 0.0))

    # 3. backward with kept activations, repeated on one graph
    clear_grads()
    y = fwd_model(x)
    t_bwd = time_best(lambda: y.backward(dout, retain_graph=True), a.reps)
    del y
    clear_grads()
    rows.append(("backward_kept", t_bwd, 2 * f_fwd, 0.0))

    # 4. forward + backward, kept and with recompute (checkpoint per block, as the stage
    #    recomputes its whole forward)
    def fwd_bwd_kept():
        clear_grads()
        fwd_model(x).backward(dout)

    def fwd_bwd_recompute():
        clear_grads()
        ckpt.checkpoint(fwd_model, x, use_reentrant=False).backward(dout)

    t_fb = time_best(fwd_bwd_kept, a.reps)
    rows.append(("fwd_bwd_kept", t_fb, 3 * f_fwd, 0.0))
    t_fbr = time_best(fwd_bwd_recompute, a.reps)
    rows.append(("backward_recompute", max(t_fbr - t_fwd, 0.0), 3 * f_fwd, 0.0))
    rows.append(("fwd_bwd_recompute", t_fbr, 4 * f_fwd, 0.0))
    clear_grads()

    # 5. optimizer: AdamW over fp32 masters, then the working copy refreshed
    if not a.no_optimizer:
        masters = [p.detach().float().clone().requires_grad_(True) for p in params]
        for m in masters:
            m.grad = torch.randn_like(m) * 1e-3
        try:
            opt = torch.optim.AdamW(masters, lr=1e-6, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0, fused=True)
        except (TypeError, RuntimeError):
            opt = torch.optim.AdamW(masters, lr=1e-6, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0, foreach=True)

        def opt_step():
            opt.step()
            with torch.no_grad():
                for p, m in zip(params, masters):
                    p.copy_(m)

        t_opt = time_best(opt_step, a.reps)
        rows.append(("optimizer", t_opt, OPTIMIZER_FLOPS_PER_PARAM * n_params, n_params * 28.0 / t_opt / 1e9))
        del opt, masters

    shape = "d%d_f%d_h%dx%d_t%dx%d_n%d" % (d, ffn, nh, nkv, T, B, a.blocks)
    print("torch %s on %s, %s; %d block(s), d %d, ffn %d, heads %d/%d (head_dim %d), %d x %d = %d tokens, "
          "%d parameters; gqa %s%s%s" % (torch.__version__, torch.cuda.get_device_name(dev), a.dtype, a.blocks, d, ffn,
                                          nh, nkv, hd, B, T, N, n_params, a.gqa,
                                          ", separate projections" if a.separate_proj else "",
                                          ", torch.compile" if a.compile else ""))
    print("timing: best of %d after a warm-up, CUDA events\n" % a.reps)
    print("%-22s %12s %12s %9s %8s %8s" % ("measurement", "seconds", "GFLOP", "TFLOP/s", "%GEMM", "%peak"))
    order = ["gemm_gate_up", "gemm_down", "forward", "backward_recompute", "backward_kept", "fwd_bwd_kept",
             "fwd_bwd_recompute", "optimizer"]
    rows.sort(key=lambda r: order.index(r[0]))
    for name, sec, fl, gbs in rows:
        tf = fl / sec / 1e12 if sec > 0 else float("nan")
        pg = "%.1f" % (100 * tf / gemm_tflops) if gbs == 0 else "-"
        pp = "%.1f" % (100 * tf / a.peak_tflops) if a.peak_tflops and gbs == 0 else "-"
        extra = "   %.1f GB/s" % gbs if gbs else ""
        print("%-22s %12.6f %12.3f %9.4g %8s %8s%s" % (name, sec, fl / 1e9, tf, pg, pp, extra))
    by = {r[0]: r for r in rows}
    kept = (by["fwd_bwd_kept"][2] / by["fwd_bwd_kept"][1] / 1e12) / gemm_tflops
    rc = (by["fwd_bwd_recompute"][2] / by["fwd_bwd_recompute"][1] / 1e12) / gemm_tflops
    print("\nGEMM rate (the faster of the two GEMMs): %.4g TFLOP/s" % gemm_tflops)
    print("block fwd+bwd / GEMM rate: %.3f with kept activations, %.3f with recompute" % (kept, rc))
    for name, sec, fl, gbs in rows:
        tf = fl / sec / 1e12 if sec > 0 else float("nan")
        line = "BENCH impl=torch name=%s seconds=%.9g flops=%.6g tflops=%.6g" % (name, sec, fl, tf)
        if gbs == 0:
            line += " pct_gemm=%.2f" % (100 * tf / gemm_tflops)
            if a.peak_tflops:
                line += " pct_peak=%.2f" % (100 * tf / a.peak_tflops)
        else:
            line += " gbs=%.4g" % gbs
        print(line + " backend=cuda dtype=%s shape=%s" % (a.dtype, shape))
    print("BENCH impl=torch name=ratio_fwd_bwd_kept_vs_gemm value=%.4f backend=cuda dtype=%s shape=%s"
          % (kept, a.dtype, shape))
    print("BENCH impl=torch name=ratio_fwd_bwd_recompute_vs_gemm value=%.4f backend=cuda dtype=%s shape=%s"
          % (rc, a.dtype, shape))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
