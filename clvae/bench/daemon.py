"""Daemon benchmark: the round trip of ``generate`` through clvae-daemon (client, protocol,
queue, worker, and back) against the same call in process, interleaved in one run (issue:
at most 1.05x, or at most 5 ms extra, for a 256 x 256 mask).

    python -m clvae.bench.daemon                       # the bundled model, 256 x 256
    python -m clvae.bench.daemon --model runs/x/model.safetensors --size 512 --repeats 40

Without the bundled model and without --model it times a random model of the bundled
model's architecture (configs/procedural.toml): the time is the same, the pictures are noise.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
from pathlib import Path

import numpy as np
import torch

from clvae import edit as api
from clvae.bench.model import blocky_mask
from clvae.bench.timing import interleaved_medians
from clvae.model_io import BUNDLED_MODEL
from clvae.model import Synthesizer
from clvae.model_io import load_synthesizer, save_synthesizer
from daemon.arrays import from_numpy, to_numpy
from daemon.client import Client
from daemon.launch import free_port, start_daemon

BUNDLED_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "procedural.toml"
GOAL_RATIO, GOAL_EXTRA_MS = 1.05, 5.0


def model_file(args: argparse.Namespace, folder: Path) -> tuple[Path, str]:
    """(the model to time, how it was chosen)."""
    if args.model:
        return Path(args.model), args.model
    if BUNDLED_MODEL.is_file():
        return BUNDLED_MODEL, f"bundled {BUNDLED_MODEL.name}"
    from clvae.data.procedural import CLASSES
    from clvae.train.config import load_config, read_toml

    cfg = load_config(read_toml(BUNDLED_CONFIG), source=str(BUNDLED_CONFIG)).model_config(CLASSES)
    path = folder / "stand-in.safetensors"
    save_synthesizer(path, Synthesizer(cfg).eval())
    return path, f"random stand-in of {BUNDLED_CONFIG.name} (the bundled model is not installed)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model.safetensors (default: the bundled model)")
    parser.add_argument("--size", type=int, default=256, help="square label map size (default 256)")
    parser.add_argument("--repeats", type=int, default=30, help="timed runs of each (median reported)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads here and in the daemon")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        path, source = model_file(args, Path(folder))
        model = load_synthesizer(path)
        label = blocky_mask(model.cfg.num_classes, args.size, 1)[0].numpy().astype(np.uint8)
        endpoint = f"tcp://127.0.0.1:{free_port()}"
        daemon = start_daemon(["--model", f"bench={path}", "--endpoint", endpoint, "--device", "cpu",
                               "--threads", str(torch.get_num_threads())], endpoint, Path(folder) / "daemon.log")
        try:
            with Client(endpoint, timeout=120) as client:
                report(model, label, client, source, args)
        finally:
            daemon.stop()


def report(model: torch.nn.Module, label: np.ndarray, client: Client, source: str, args: argparse.Namespace) -> None:
    def direct() -> np.ndarray:
        return api.generate(model, label, n=1, seed=0, max_batch=1)[0].image

    in_worker: list[float] = []  # the daemon's own time for each job, as its reply says

    def through_daemon() -> np.ndarray:
        reply = client.request("generate", {"label": from_numpy(label), "n": 1, "seed": 0})
        in_worker.append(reply.body["seconds"])
        return to_numpy(reply.body["results"][0]["image"])

    difference = int(np.abs(direct().astype(int) - through_daemon()).max())
    times = interleaved_medians({"direct": direct, "daemon": through_daemon}, args.repeats)
    ratio, extra_ms = times["daemon"] / times["direct"], (times["daemon"] - times["direct"]) * 1e3
    worker_ms = statistics.median(in_worker) * 1e3
    met = ratio <= GOAL_RATIO or extra_ms <= GOAL_EXTRA_MS
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads, device cpu")
    print(f"model: {source}; {model.cfg.width} x {model.cfg.height}, C = {model.cfg.num_classes}")
    print(f"generate, one {args.size} x {args.size} mask, median of {args.repeats}:")
    print(f"  direct API call   {times['direct'] * 1e3:8.2f} ms")
    print(f"  through daemon    {times['daemon'] * 1e3:8.2f} ms   (in its worker {worker_ms:.2f} ms, so protocol, "
          f"queue and transport {times['daemon'] * 1e3 - worker_ms:.2f} ms)")
    print(f"  daemon / direct   {ratio:8.3f}x   (+{extra_ms:.2f} ms; goal <= {GOAL_RATIO}x or <= {GOAL_EXTRA_MS:g} ms: "
          f"{'met' if met else 'NOT met'})")
    print(f"  largest pixel difference between the two: {difference}")


if __name__ == "__main__":
    main()
