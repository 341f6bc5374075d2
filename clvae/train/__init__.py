"""Training: ``TrainConfig`` (TOML + overrides), the loop with DDP, AMP, EMA and exact
resume, checkpoints, and the ``clvae train`` command (``add_train_parser`` / ``run_train``)."""

from clvae.train.cli import add_train_parser, run_train
from clvae.train.config import TrainConfig, load_config
from clvae.train.errors import TrainError
from clvae.train.trainer import TrainResult, train

__all__ = ["TrainConfig", "TrainError", "TrainResult", "add_train_parser", "load_config", "run_train", "train"]
