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

With --cells it compares layouts instead (issue 12), at 16 and 64 shards,
over --seeds seeds (mean +- standard deviation), 20 iterations each:

  FAISS k = shards        what PgDog's built-in vector sharding trains
  cells, window 1.05      train-centroids --cells-per-shard M (every shard
                          within 0.952..1.05 x mean training rows; two-level
                          cell training, the default)
  cells flat, window 1.05 the same with --flat-cells (flat k-means cells)
  cells, window 1.2       the same with --balance 1.2 (0.833..1.2)
  FAISS k = M x shards    timing only: FAISS training as many cells
  reshard S -> S+1        train-centroids reshard of the 1.05 layout: rows
                          moved (fraction and / (1/(S+1))), recall, balance

and prints PASS/MISS for the issue's targets. Scores use each file's
shard_of: a row's shard is its nearest centroid's shard.
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


def fmnist_truth():
    """Fashion-MNIST's 60,000 training and 10,000 test rows, unit length, and
    each test row's 10 exact nearest training rows by cosine (FAISS flat)."""
    import faiss
    xn = normalize(load_idx(f"{DATA}/train-images-idx3-ubyte.gz"))
    qn = normalize(load_idx(f"{DATA}/t10k-images-idx3-ubyte.gz"))
    index = faiss.IndexFlatIP(xn.shape[1])
    index.add(xn)
    _, gt = index.search(qn, 10)
    return xn, qn, gt


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


def child_cells(k, seed, out):
    """Train FAISS k-means with k centroids and one seed; save centroids, time."""
    import numpy as np
    import faiss
    x = normalize(load_idx(f"{DATA}/train-images-idx3-ubyte.gz"))
    km = faiss.Kmeans(x.shape[1], k, niter=ITERS, spherical=True, seed=seed,
                      max_points_per_centroid=10**9, verbose=False)
    t = time.perf_counter()
    km.train(x)
    dt = time.perf_counter() - t
    np.savez(out, centroids=np.asarray(km.centroids, dtype=np.float32), time=dt)


def run_faiss(k, seed):
    import numpy as np
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "c.npz")
        subprocess.run([sys.executable, __file__, "--child", "faiss-k", "--k", str(k), "--seed", str(seed),
                        "--out", out], check=True)
        z = np.load(out)
        return z["centroids"], None, float(z["time"])


def run_cells(cmd, shards, m, balance, seed, d, extra=()):
    import numpy as np
    out = os.path.join(d, f"cells-{shards}-{m}-{balance}-{seed}{''.join(extra)}.json")
    args = cmd + list(extra) + ["--input", f"{DATA}/train-images-idx3-ubyte.gz", "--shards", str(shards),
                  "--cells-per-shard", str(m), "--balance", str(balance), "--iters", str(ITERS),
                  "--seed", str(seed), "--metric", "cosine", "--out", out, "-q"]
    t = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, check=True)
    dt = time.perf_counter() - t
    with open(out) as f:
        j = json.load(f)
    return np.asarray(j["centroids"], dtype=np.float32), np.asarray(j["shard_of"]), dt, out


def run_reshard(cmd, old, shards, seed, d):
    import numpy as np
    out = old.replace(".json", f"-reshard{shards}.json")
    args = cmd + ["reshard", "--centroids", old, "--shards", str(shards), "--input",
                  f"{DATA}/train-images-idx3-ubyte.gz", "--seed", str(seed), "--out", out, "-q"]
    t = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, check=True)
    dt = time.perf_counter() - t
    with open(out) as f:
        j = json.load(f)
    return np.asarray(j["shard_of"]), dt


def score_layout(c, shard_of, xn, qn, gt):
    """recall@10 at probes 1, 2, 4, max/mean and min rows per shard."""
    import numpy as np
    cn = normalize(c)
    if shard_of is None:
        shard_of = np.arange(len(cn))
    shards = int(shard_of.max()) + 1
    assign = np.asarray((xn @ cn.T).argmax(axis=1))
    row_shard = shard_of[assign]
    loads = np.bincount(row_shard, minlength=shards)
    order = np.argsort(-(qn @ cn.T), axis=1, kind="stable")
    nshard = row_shard[gt]
    rec = []
    for p in (1, 2, 4):
        qs = shard_of[order[:, :p]]
        rec.append(float((nshard[:, :, None] == qs[:, None, :]).any(axis=2).mean()))
    return rec, float(loads.max() / loads.mean()), int(loads.min()), row_shard


def cells_main(cmd, seeds):
    import numpy as np
    xn, qn, gt = fmnist_truth()

    def ms(v):
        return f"{np.mean(v):.4f} +-{np.std(v):.4f}"

    checks = []
    print(f"{'layout':34s} {'r@10 p1':>16s} {'p2':>7s} {'p4':>7s} {'max/mean':>9s} {'min rows':>9s} {'time s':>7s}")
    for shards, m in ((16, 32), (64, 16)):
        res = {}
        with tempfile.TemporaryDirectory() as d:
            rows = [("faiss k=shards", lambda s: run_faiss(shards, s)),
                    ("cells window 1.05", lambda s: run_cells(cmd, shards, m, 1.05, s, d)),
                    ("cells window 1.2", lambda s: run_cells(cmd, shards, m, 1.2, s, d)),
                    ("cells flat, window 1.05", lambda s: run_cells(cmd, shards, m, 1.05, s, d, ("--flat-cells",))),
                    (f"faiss k={shards * m} (time only)", lambda s: run_faiss(shards * m, s))]
            for name, fn in rows:
                r = {"rec": [], "imb": [], "min": [], "time": [], "files": [], "rows": []}
                for seed in seeds:
                    out = fn(seed)
                    c, so, dt = out[0], out[1], out[2]
                    r["time"].append(dt)
                    if len(out) > 3:
                        r["files"].append(out[3])
                    if "time only" in name:
                        continue
                    rec, imb, mn, rs = score_layout(c, so, xn, qn, gt)
                    r["rec"].append(rec)
                    r["imb"].append(imb)
                    r["min"].append(mn)
                    r["rows"].append((c, rs))
                res[name] = r
                label = f"{shards} shards, {name}"
                if r["rec"]:
                    rec = np.array(r["rec"])
                    print(f"{label:34s} {ms(rec[:, 0]):>16s} {rec[:, 1].mean():7.4f} {rec[:, 2].mean():7.4f} "
                          f"{np.max(r['imb']):9.3f} {np.min(r['min']):9d} {np.mean(r['time']):7.2f}", flush=True)
                else:
                    print(f"{label:34s} {'':>16s} {'':>7s} {'':>7s} {'':>9s} {'':>9s} {np.mean(r['time']):7.2f}", flush=True)
            # Reshard the 1.05 layouts by one shard.
            moved, rec_after, imb_after = [], [], []
            for seed, f in zip(seeds, res["cells window 1.05"]["files"]):
                c, rs_before = res["cells window 1.05"]["rows"][seeds.index(seed)]
                so, _ = run_reshard(cmd, f, shards + 1, seed, d)
                rec, imb, mn, rs_after = score_layout(c, so, xn, qn, gt)
                moved.append(float((rs_before != rs_after).mean()))
                rec_after.append(rec[0])
                imb_after.append(imb)
            print(f"{f'{shards} -> {shards + 1} shards, reshard':34s} {ms(rec_after):>16s} {'':>7s} {'':>7s} "
                  f"{np.max(imb_after):9.3f} {'':>9s} moved {np.mean(moved):.4f} = {np.mean(moved) * (shards + 1):.3f} x 1/{shards + 1}",
                  flush=True)
        f1 = np.mean([r[0] for r in res["faiss k=shards"]["rec"]])
        c105 = np.mean([r[0] for r in res["cells window 1.05"]["rec"]])
        c12 = np.mean([r[0] for r in res["cells window 1.2"]["rec"]])
        t_ours = np.mean(res["cells window 1.05"]["time"])
        t_faiss = np.mean(res[f"faiss k={shards * m} (time only)"]["time"])
        checks += [
            (f"{shards} shards: window 1.05 holds", max(res["cells window 1.05"]["imb"]) <= 1.05 + 1e-9,
             f"max/mean {max(res['cells window 1.05']['imb']):.3f}"),
            (f"{shards} shards: recall p1 (1.05) >= FAISS - 0.005", c105 >= f1 - 0.005, f"{c105:.4f} vs {f1:.4f}"),
            (f"{shards} shards: recall p1 (1.2) >= FAISS", c12 >= f1, f"{c12:.4f} vs {f1:.4f}"),
            (f"{shards} shards: reshard moves <= 1.1/(S+1)", np.mean(moved) <= 1.1 / (shards + 1),
             f"{np.mean(moved):.4f} vs {1.1 / (shards + 1):.4f}"),
            (f"{shards} shards: reshard keeps the 1.05 window", max(imb_after) <= 1.05 + 1e-9, f"{max(imb_after):.3f}"),
        ]
        if shards == 64:
            checks.append(("64 shards: cells (whole command) no slower than FAISS training as many cells",
                           t_ours <= t_faiss, f"{t_ours:.1f}s vs {t_faiss:.1f}s"))
    print()
    for what, ok, detail in checks:
        print(f"{'PASS' if ok else 'MISS'}  {what}: {detail}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child")
    ap.add_argument("--out")
    ap.add_argument("--k", type=int, default=K)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cells", action="store_true", help="compare shard layouts (fine cells, reshard) instead of trainers")
    ap.add_argument("--seeds", default="1,2,3", help="seeds for --cells (comma-separated)")
    ap.add_argument("--bin", default="build/train-centroids",
                    help="train-centroids binary (default build/train-centroids; 'go' to use go run)")
    a = ap.parse_args()
    if a.child == "faiss-k":
        child_cells(a.k, a.seed, a.out)
        return
    if a.child:
        child(a.child, a.out)
        return
    import numpy as np
    if a.bin == "go" or not os.path.exists(a.bin):
        subprocess.run(["go", "build", "-o", "build/train-centroids", "./cmd/train-centroids"], check=True)
        a.bin = "build/train-centroids"
    cmd = [a.bin]
    if a.cells:
        cells_main(cmd, [int(v) for v in a.seeds.split(",")])
        return

    xn, qn, gt = fmnist_truth()

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
