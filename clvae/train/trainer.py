"""The training run: set everything up from a TrainConfig (or a checkpoint), loop, save.

``train(config, resume)`` is the whole run in one call, for one process or for each of
torchrun's processes. Rank 0 alone shows progress and writes the run directory.
"""

from __future__ import annotations

import functools
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch
from torch import nn
from torch.utils.data import default_collate

from clvae.losses import VGGLoss
from clvae.model import MultiscaleDiscriminator, Synthesizer
from clvae.model.vgg import BadWeightsError, MissingWeightsError, load_vgg19
from clvae.train import distributed
from clvae.train.config import LossSettings, TrainConfig
from clvae.train.data import TrainingStream, build_training_set, random_flip
from clvae.train.distributed import Process
from clvae.train.ema import EMA
from clvae.train.errors import TrainError
from clvae.train.monitor import Monitor
from clvae.train.precision import choose_precision
from clvae.train.randomness import FLIP, NOISE, iteration_generator, seed_everything
from clvae.train.samples import sample_grid
from clvae.train.schedule import linear_decay_scheduler, schedule_iterations
from clvae.train.signals import StopRequests
from clvae.train.state import (Saved, check_compatible, checkpoint_path, export_model, read_checkpoint,
                               read_model_weights, restore, write_checkpoint)
from clvae.train.steps import SynthesisStep, Updates, train_step

GRID_EXAMPLES = 4


@dataclass
class TrainResult:
    iteration: int  # the iteration the run stopped at
    iterations_run: int  # how many this call ran
    seconds: float
    stopped_early: bool  # by Ctrl-C / SIGTERM
    run_dir: Path


def train(config: TrainConfig, resume: bool = False) -> TrainResult:
    """Run (or, with ``resume``, continue) the training ``config`` describes."""
    process = distributed.start(config.run.device)
    try:
        result = Trainer(config, process, resume).run()
    except BaseException:
        if process.distributed:
            torch.distributed.destroy_process_group()  # no barrier: the others may never reach it
        raise
    distributed.stop(process)
    return result


def load_vgg_loss(settings: LossSettings, device: torch.device) -> Optional[VGGLoss]:
    """The VGG term, or None when its weight is 0; missing weights stop the run here."""
    if settings.vgg <= 0:
        return None
    try:
        features = load_vgg19(settings.vgg_weights)
    except (MissingWeightsError, BadWeightsError) as err:
        raise TrainError(f"{err} (here: loss.vgg_weights = \"PATH\", or --set loss.vgg=0)") from err
    return VGGLoss(features).to(device)


def configure_determinism(deterministic: bool) -> None:
    torch.backends.cudnn.benchmark = not deterministic
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)


def maybe_compile(module: nn.Module, enabled: bool) -> nn.Module:
    return torch.compile(module) if enabled else module


class Trainer:
    def __init__(self, config: TrainConfig, process: Process, resume: bool) -> None:
        self.config, self.process = config, process
        run, device = config.run, process.device
        self.run_dir = Path(run.run_dir)
        saved = self.find_checkpoint(resume)
        self.vgg = load_vgg_loss(config.loss, device)
        configure_determinism(run.deterministic)
        seed_everything(run.seed)
        self.dataset = build_training_set(config.data)
        self.model_config = config.model_config(self.dataset.classes)
        if saved is not None:
            check_compatible(saved, self.model_config)
        self.build_models()
        self.stream = TrainingStream(self.dataset, config.optim.batch_size, config.data.num_workers, run.seed,
                                     process.rank, process.world_size, pin_memory=device.type == "cuda")
        self.build_optimisation()
        self.iteration = 0
        if saved is not None:
            self.resume_from(saved)
        elif run.init_from:
            self.warm_start(run.init_from)
        self.updates = self.assemble_updates()
        total = sum(self.schedule)
        self.stop_at = min(total, run.max_iterations) if run.max_iterations else total
        self.monitor = Monitor(self.run_dir, self.iteration, self.stop_at, run.log_every) if process.is_main else None

    # ---- set-up ------------------------------------------------------------------------
    def find_checkpoint(self, resume: bool) -> Optional[Saved]:
        path = checkpoint_path(self.run_dir)
        if not path.exists():
            if resume and self.process.is_main:
                print(f"no checkpoint in {self.run_dir}: starting a new run")
            return None
        if not resume:
            raise TrainError(f"{self.run_dir} already holds a checkpoint; pass --resume to continue it "
                             f"or choose another run directory (--run-dir)")
        return read_checkpoint(path)

    def build_models(self) -> None:
        cfg, device, run = self.model_config, self.process.device, self.config.run
        memory_format = torch.channels_last if run.channels_last else torch.contiguous_format
        synthesizer = Synthesizer(cfg)
        if cfg.norm_G == "syncbatch":
            synthesizer = distributed.sync_batch_norms(synthesizer, self.process)
        self.synthesizer = synthesizer.to(device, memory_format=memory_format)
        self.discriminator = MultiscaleDiscriminator(cfg).to(device, memory_format=memory_format)
        self.ema = None
        if self.config.optim.ema_decay > 0 and self.process.is_main:
            self.ema = EMA(self.synthesizer, Synthesizer(cfg).to(device), self.config.optim.ema_decay)

    def build_optimisation(self) -> None:
        optim = self.config.optim
        lr_G, lr_D = optim.learning_rates()
        self.optimizer_G = torch.optim.Adam(self.synthesizer.parameters(), lr=lr_G, betas=optim.betas)
        self.optimizer_D = torch.optim.Adam(self.discriminator.parameters(), lr=lr_D, betas=optim.betas)
        self.schedule = schedule_iterations(optim.unit, optim.niter, optim.niter_decay, self.stream.batches_per_epoch)
        self.scheduler_G = linear_decay_scheduler(self.optimizer_G, *self.schedule)
        self.scheduler_D = linear_decay_scheduler(self.optimizer_D, *self.schedule)
        self.precision = choose_precision(self.config.run.amp, self.process.device)
        self.scaler_G, self.scaler_D = self.precision.grad_scaler(), self.precision.grad_scaler()

    def stateful(self) -> dict[str, object]:
        """Everything a checkpoint saves, by name."""
        objects = {
            "synthesizer": self.synthesizer, "discriminator": self.discriminator,
            "optimizer_G": self.optimizer_G, "optimizer_D": self.optimizer_D,
            "scheduler_G": self.scheduler_G, "scheduler_D": self.scheduler_D,
            "scaler_G": self.scaler_G, "scaler_D": self.scaler_D,
        }
        if self.ema is not None:
            objects["ema"] = self.ema.model
        return objects

    def resume_from(self, saved: Saved) -> None:
        missing = restore(saved, self.stateful())
        if "ema" in missing:  # EMA switched on for the rest of the run
            self.ema.model.load_state_dict(self.synthesizer.state_dict())
        self.iteration = saved.iteration
        self.stream.position = saved.position
        restored = self.scheduler_G.lr_lambdas[0]
        kept = ((restored.constant, restored.decay), (self.scheduler_G.base_lrs[0], self.scheduler_D.base_lrs[0]))
        if self.process.is_main:
            print(f"resuming {self.run_dir} at iteration {saved.iteration} "
                  f"(epoch {saved.position.epoch}, batch {saved.position.batch})")
            if kept != (self.schedule, self.config.optim.learning_rates()):
                print(f"note: the run keeps its checkpoint's schedule {kept[0]} (iterations) and learning rates "
                      f"{kept[1]} (G/E, D); changed optim settings apply to new runs only")
        self.schedule = kept[0]

    def warm_start(self, path: str) -> None:
        """A new run from trained G and E weights (and EMA from the same); D, the optimisers
        and the schedule start fresh."""
        try:
            weights, problem = read_model_weights(path, self.model_config), None
        except TrainError as err:
            weights, problem = None, err
        if distributed.any_process(problem is not None, self.process):  # no process left waiting for the others
            raise problem or TrainError(f"run.init_from: another process could not use {path}")
        for model in [self.synthesizer] + ([self.ema.model] if self.ema is not None else []):
            model.load_state_dict(weights)
        if self.process.is_main:
            print(f"starting from the weights in {path} (the discriminator starts fresh)")

    def assemble_updates(self) -> Updates:
        compiled = self.config.run.compile
        loss = self.config.loss
        synthesis = SynthesisStep(self.synthesizer, loss.locality_margin if loss.locality > 0 else None)
        return Updates(
            synthesis=maybe_compile(distributed.wrap(synthesis, self.process), compiled),
            critic=maybe_compile(distributed.wrap(self.discriminator, self.process), compiled),
            frozen_critic=maybe_compile(self.discriminator, compiled),
            optimizer_G=self.optimizer_G, optimizer_D=self.optimizer_D,
            scaler_G=self.scaler_G, scaler_D=self.scaler_D,
            precision=self.precision, weights=self.config.loss, vgg=self.vgg,
        )

    # ---- the loop ------------------------------------------------------------------------
    def run(self) -> TrainResult:
        start, started = self.iteration, time.perf_counter()
        if self.monitor:
            self.announce()
            if start >= self.stop_at:
                self.monitor.note(f"the run is at iteration {start} of {self.stop_at}: nothing to do "
                                  f"(raise run.max_iterations or the schedule to go on)")
        batches = iter(self.stream)
        stopping = False
        notify = self.monitor.note if self.monitor else (lambda message: None)
        with StopRequests(notify) as stop:
            while self.iteration < self.stop_at and not stopping:
                self.step(next(batches))
                stopping = distributed.any_process(stop.requested, self.process)
                if self.iteration % self.config.run.checkpoint_every == 0 or self.iteration == self.stop_at or stopping:
                    self.save()
        if self.monitor:
            self.monitor.close()
        elapsed = time.perf_counter() - started
        return TrainResult(self.iteration, self.iteration - start, elapsed, stopping, self.run_dir)

    def step(self, batch: dict[str, torch.Tensor]) -> None:
        """Train on one batch and do the bookkeeping after it."""
        image, label = batch["image"], batch["label"]
        seed, rank, device = self.config.run.seed, self.process.rank, self.process.device
        if self.config.data.flip:
            image, label = random_flip(image, label, iteration_generator(seed, rank, self.iteration, FLIP))
        memory_format = torch.channels_last if self.config.run.channels_last else torch.contiguous_format
        image = image.to(device, non_blocking=True, memory_format=memory_format)
        label = label.to(device, non_blocking=True)
        noise = iteration_generator(seed, rank, self.iteration, NOISE, device)
        lrs = {"G": self.optimizer_G.param_groups[0]["lr"], "D": self.optimizer_D.param_groups[0]["lr"]}
        losses = train_step(self.updates, image, label, noise)
        self.iteration += 1
        self.stream.advance()
        with warnings.catch_warnings():  # fp16: GradScaler skips steps with inf gradients; that is fine
            warnings.filterwarnings("ignore", "Detected call of `lr_scheduler.step\\(\\)` before", UserWarning)
            self.scheduler_G.step()
            self.scheduler_D.step()
        if self.ema is not None:
            self.ema.update(self.synthesizer)
        if self.monitor:
            self.monitor.step(self.iteration, self.stream.position.epoch, losses, lrs)
            every = self.config.run.image_every
            if every and self.iteration % every == 0:
                self.monitor.image(self.iteration, self.sample_grid())

    # ---- outputs -------------------------------------------------------------------------
    def inference_model(self) -> Synthesizer:
        """What model.safetensors holds: the EMA when on, else the trained weights."""
        return self.ema.model if self.ema is not None else self.synthesizer

    @functools.cached_property
    def grid_examples(self) -> dict[str, torch.Tensor]:
        """The first images of the data set, shown in every image grid."""
        examples = default_collate([self.dataset[i] for i in range(min(GRID_EXAMPLES, len(self.dataset)))])
        return {key: examples[key].to(self.process.device) for key in ("image", "label")}

    def sample_grid(self) -> torch.Tensor:
        examples = self.grid_examples
        return sample_grid(self.inference_model(), examples["image"], examples["label"], self.config.run.seed)

    def save(self) -> None:
        """Rank 0 writes the training checkpoint, then the inference weights."""
        if not self.process.is_main:
            return
        self.check_finite()
        path = checkpoint_path(self.run_dir)
        write_checkpoint(path, self.iteration, self.stream.position, self.config, self.model_config, self.stateful())
        model_path = export_model(self.run_dir, self.inference_model())
        self.monitor.note(f"saved iteration {self.iteration} to {path} and {model_path.name}")

    def check_finite(self) -> None:
        """Refuse to save diverged weights over a good checkpoint."""
        for name, module in (("G and E", self.synthesizer), ("D", self.discriminator)):
            bad = [key for key, p in module.named_parameters() if not torch.isfinite(p).all()]
            if bad:
                raise TrainError(f"training diverged: {name} hold NaN or infinite weights at iteration "
                                 f"{self.iteration} ({bad[0]}, ...); nothing was saved, the last checkpoint is "
                                 f"as it was. Try lower learning rates, run.amp = \"off\" or run.compile = false")

    def announce(self) -> None:
        cfg, optim = self.model_config, self.config.optim
        lr_G, lr_D = optim.learning_rates()
        parameters = sum(p.numel() for p in self.synthesizer.parameters())
        self.monitor.note(
            f"training {cfg.variant} ({parameters / 1e6:.2f} M parameters in G and E) on {self.config.data.kind}: "
            f"{len(self.dataset)} images of {cfg.height} x {cfg.width}, {cfg.num_classes} classes | "
            f"{self.process.world_size} process(es) on {self.process.device}, {self.precision.name} | "
            f"batch {optim.batch_size} per process, lr G/E {lr_G:g} D {lr_D:g}, "
            f"{self.schedule[0]} + {self.schedule[1]} decay iterations "
            f"({self.stream.batches_per_epoch} per epoch) | run dir {self.run_dir}")
