"""The pretrained measuring networks, defined here without torchvision, with state-dict keys
of the official weight files: AlexNet (torchvision), LPIPS v0.1 alex, FID Inception v3
(pytorch-fid). ``weights`` finds, reads and checks their files."""

from clvae.eval.backbones.alexnet import ALEXNET_WEIGHTS, AlexNetFeatures, load_alexnet
from clvae.eval.backbones.inception import INCEPTION_WEIGHTS, FIDInception, load_fid_inception
from clvae.eval.backbones.lpips import LPIPS, LPIPS_WEIGHTS, load_lpips
from clvae.weights import BadWeightsError, MissingWeightsError, WeightsFile

__all__ = [
    "ALEXNET_WEIGHTS", "AlexNetFeatures", "BadWeightsError", "FIDInception", "INCEPTION_WEIGHTS", "LPIPS",
    "LPIPS_WEIGHTS", "MissingWeightsError", "WeightsFile", "load_alexnet", "load_fid_inception", "load_lpips",
]
