#!/usr/bin/python3
"""Compare train-centroids with FAISS and scikit-learn on Fashion-MNIST.

Run from the repository root with Debian's python3 (python3-faiss,
python3-sklearn and dataset-fashion-mnist installed):

    /usr/bin/python3 bench/peers.py [--bin build/train-centroids]

Every trainer runs in its own subprocess (OPENBLAS_NUM_THREADS must be set
before numpy/faiss are imported) and hands back its centroids; this process
then scores all of them the same way, on the 60,000 training images, with
cosine similarity and k = shards = 64:

  time       wall time of the training call (for train-centroids: the whole
             process, reading the .gz file included)
  objective  sum over the training points of 1 - cosine to the nearest centroid
  imbalance  max / mean points per shard when every point goes to its nearest
             centroid (shard = centroid)
  recall@10  for each of the 10,000 test images, the fraction of its exact 10
             nearest training images (by cosine) that lie on the shards of its
             nprobe most similar centroids, averaged
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

DATA = "/usr/share/datasets/fashion-mnist"
K = 64
ITERS = 20
SAMPLE = 256 * K  # FAISS's default max_points_per_centroid


def load_idx(path):
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[2] != 8:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd)
    return data.reshape(dims[0], -1).astype(np.float32)


def normalize(x):
    import numpy as np
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1
    return (x / n).astype(np.float32)


def child(kind, out):
    """Train one peer and save its centroids (and the time) to out.npz."""
    import numpy as np
    x = normalize(load_idx(f"{DATA}/train-images-idx3-ubyte.gz"))
    if kind.startswith("faiss"):
        import faiss
        mpc = 10**9 if kind.startswith("faiss-all") else 256
        km = faiss.Kmeans(x.shape[1], K, niter=ITERS, spherical=True, seed=1,
                          max_points_per_centroid=mpc, verbose=False)
        t = time.perf_counter()
        km.train(x)
        dt = time.perf_counter() - t
        c = km.centroids
    elif kind == "sklearn":
        from sklearn.cluster import KMeans
        km = KMeans(n_clusters=K, n_init=1, max_iter=ITERS, random_state=1)
        t = time.perf_counter()
        km.fit(x)
        dt = time.perf_counter() - t
        c = km.cluster_centers_
    else:
        raise SystemExit(f"unknown peer {kind}")
    np.savez(out, centroids=np.asarray(c, dtype=np.float32), time=dt)


def run_child(kind, env_extra):
    env = dict(os.environ, **env_extra)
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "c.npz")
        subprocess.run([sys.executable, __file__, "--child", kind, "--out", out], env=env, check=True)
        import numpy as np
        z = np.load(out)
        return z["centroids"], float(z["time"])


def run_ours(cmd, extra):
    import numpy as np
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "c.json")
        args = cmd + ["--input", f"{DATA}/train-images-idx3-ubyte.gz", "--k", str(K),
                      "--iters", str(ITERS), "--metric", "cosine", "--out", out] + extra
        t = time.perf_counter()
        p = subprocess.run(args, stdout=subprocess.PIPE, text=True, check=True)
        dt = time.perf_counter() - t
        with open(out) as f:
            c = np.asarray(json.load(f)["centroids"], dtype=np.float32)
        return c, dt


def score(c, xn, qn, gt):
    import numpy as np
    cn = normalize(c)
    s = xn @ cn.T
    assign = s.argmax(axis=1)
    objective = float(np.sum(1.0 - s[np.arange(len(s)), assign], dtype=np.float64))
    sizes = np.bincount(assign, minlength=len(cn))
    imbalance = sizes.max() / sizes.mean()
    qs = qn @ cn.T
    order = np.argsort(-qs, axis=1, kind="stable")
    nshard = assign[gt]  # shard of every true neighbour
    recalls = []
    for p in (1, 2, 4):
        top = order[:, :p]
        hit = (nshard[:, :, None] == top[:, None, :]).any(axis=2)
        recalls.append(float(hit.mean()))
    return objective, float(imbalance), recalls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child")
    ap.add_argument("--out")
    ap.add_argument("--bin", default="build/train-centroids",
                    help="train-centroids binary (default build/train-centroids; 'go' to use go run)")
    a = ap.parse_args()
    if a.child:
        child(a.child, a.out)
        return
    import numpy as np
    if a.bin == "go" or not os.path.exists(a.bin):
        subprocess.run(["go", "build", "-o", "build/train-centroids", "./cmd/train-centroids"], check=True)
        a.bin = "build/train-centroids"
    cmd = [a.bin]

    x = load_idx(f"{DATA}/train-images-idx3-ubyte.gz")
    q = load_idx(f"{DATA}/t10k-images-idx3-ubyte.gz")
    xn, qn = normalize(x), normalize(q)
    import faiss
    index = faiss.IndexFlatIP(xn.shape[1])
    index.add(xn)
    _, gt = index.search(qn, 10)

    configs = [
        ("faiss all points", lambda: run_child("faiss-all", {})),
        ("faiss all points, 1 BLAS thread", lambda: run_child("faiss-all", {"OPENBLAS_NUM_THREADS": "1"})),
        ("faiss default sample (16384)", lambda: run_child("faiss-sample", {})),
        ("faiss default sample, 1 BLAS thread", lambda: run_child("faiss-sample", {"OPENBLAS_NUM_THREADS": "1"})),
        ("sklearn KMeans", lambda: run_child("sklearn", {})),
        ("ours all points", lambda: run_ours(cmd, [])),
        ("ours --sample 16384", lambda: run_ours(cmd, ["--sample", str(SAMPLE)])),
        ("ours --balance 1.1", lambda: run_ours(cmd, ["--balance", "1.1"])),
    ]
    rows = {}
    print(f"{'trainer':38s} {'time s':>7s} {'objective':>10s} {'imbalance':>9s} {'r@10 p1':>8s} {'p2':>6s} {'p4':>6s}")
    for name, fn in configs:
        c, dt = fn()
        obj, imb, rec = score(c, xn, qn, gt)
        rows[name] = (dt, obj, imb, rec)
        print(f"{name:38s} {dt:7.2f} {obj:10.1f} {imb:9.3f} {rec[0]:8.4f} {rec[1]:6.4f} {rec[2]:6.4f}", flush=True)

    f_all = min(rows["faiss all points"][0], rows["faiss all points, 1 BLAS thread"][0])
    f_sample = rows["faiss default sample (16384)"][0]
    ours, samp, bal = rows["ours all points"], rows["ours --sample 16384"], rows["ours --balance 1.1"]
    checks = [
        ("(a) all points: time <= faster FAISS", ours[0] <= f_all, f"{ours[0]:.2f} vs {f_all:.2f}"),
        ("(b) --sample 16384: time <= FAISS default sample", samp[0] <= f_sample, f"{samp[0]:.2f} vs {f_sample:.2f}"),
        ("(c) objective <= 1.01 x FAISS (all points)", ours[1] <= 1.01 * rows["faiss all points"][1],
         f"{ours[1]:.1f} vs {rows['faiss all points'][1]:.1f}"),
        ("(c) sample objective <= 1.01 x FAISS sample", samp[1] <= 1.01 * rows["faiss default sample (16384)"][1],
         f"{samp[1]:.1f} vs {rows['faiss default sample (16384)'][1]:.1f}"),
        ("(d) imbalance <= FAISS (all points)", ours[2] <= rows["faiss all points"][2],
         f"{ours[2]:.3f} vs {rows['faiss all points'][2]:.3f}"),
        ("(e) --balance 1.1: imbalance <= 1.10", bal[2] <= 1.10, f"{bal[2]:.3f}"),
        ("(e) --balance 1.1: recall p1 >= ours - 0.02", bal[3][0] >= ours[3][0] - 0.02,
         f"{bal[3][0]:.4f} vs {ours[3][0]:.4f}"),
    ]
    print()
    for what, ok, detail in checks:
        print(f"{'PASS' if ok else 'MISS'}  {what}: {detail}")


if __name__ == "__main__":
    main()
