"""Pillow baseline for bench_image: the same decode + resize + normalise (and
Qwen2.5-VL patchify) in one thread, timed in the same run, plus a check of
sova's tensors against Pillow's. Usage: bench_pillow.py BENCH_IMAGE_BIN [ITERS]
(needs pillow and numpy)."""
import io, math, os, subprocess, sys, tempfile, time
import numpy as np
from PIL import Image

def make_jpeg(path):
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:1080, 0:1920].astype(np.float32)
    img = np.stack([x / 1920 * 255, y / 1080 * 255, 128 + 100 * np.sin(x / 37.0) * np.cos(y / 23.0)], -1)
    img += rng.normal(0, 12, img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, quality=90)

def norm(a, mean, std):
    a = a.astype(np.float32) * np.float32(1 / 255)
    return (a - np.array(mean, np.float32)) / np.array(std, np.float32)

def gemma3(data):
    im = Image.open(io.BytesIO(data)).convert("RGB").resize((896, 896), Image.Resampling.BILINEAR)
    return norm(np.asarray(im), [0.5] * 3, [0.5] * 3).transpose(2, 0, 1)[None].copy()

def qwen(data):
    im = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = im.size
    f, mx = 28, 1003520
    hb, wb = round(h / f) * f, round(w / f) * f
    if hb * wb > mx:
        beta = math.sqrt(h * w / mx)
        hb, wb = max(f, math.floor(h / beta / f) * f), max(f, math.floor(w / beta / f) * f)
    im = im.resize((wb, hb), Image.Resampling.BICUBIC)
    a = norm(np.asarray(im), [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711])
    a = np.tile(a.transpose(2, 0, 1)[None], (2, 1, 1, 1))
    gh, gw = hb // 14, wb // 14
    a = a.reshape(1, 2, 3, gh // 2, 2, 14, gw // 2, 2, 14).transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    return a.reshape(gh * gw, 3 * 2 * 14 * 14).copy()

def median_ms(fn, data, iters):
    t = []
    for _ in range(iters):
        t0 = time.perf_counter()
        out = fn(data)
        t.append((time.perf_counter() - t0) * 1e3)
    return sorted(t)[iters // 2], out

def main():
    binary, iters = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20
    with tempfile.TemporaryDirectory() as tmp:
        jpg = os.path.join(tmp, "bench_1920x1080.jpg")
        make_jpeg(jpg)
        data = open(jpg, "rb").read()
        res = subprocess.run([binary, jpg, str(iters), os.path.join(tmp, "sova")], check=True,
                             capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1")).stdout
        sova = {l.split()[0]: float(l.split()[2]) for l in res.splitlines()}
        for name, fn in (("gemma3", gemma3), ("qwen25vl", qwen)):
            ms, ref = median_ms(fn, data, iters)
            ours = np.load(os.path.join(tmp, f"sova_{name}.npy"))
            diff = np.abs(ours - ref) if ours.shape == ref.shape else None
            tail = (f"max|diff| {diff.max():.3g}, within 1e-5: {100 * (diff <= 1e-5).mean():.2f}%"
                    if diff is not None else f"shape {ours.shape} != {ref.shape}")
            print(f"{name}: pillow {ms:.2f} ms, sova {sova[name]:.2f} ms, speedup x{ms / sova[name]:.2f}; {tail}")

if __name__ == "__main__":
    main()
