"""clvae: class- and layer-wise VAE-GAN for semantic image synthesis and editing.

Endo & Kanamori, "Diversifying Semantic Image Synthesis and Editing via Class- and
Layer-wise VAEs". See docs/architecture.md for the map of the package.
"""

__version__ = "0.1.0"
