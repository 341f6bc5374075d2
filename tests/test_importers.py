"""``clvae import``: published SPADE / DiversifyingSMIS checkpoints onto our Synthesizer.

The published files are rebuilt here from their architecture as their code defines it
(key names, shapes, old-style spectral norm, sync batch norm statistics), independently
of the importer; a small functional re-implementation of their forward passes, run on the
raw state dicts, checks that the imported model computes the same images and codes.
"""

from __future__ import annotations

import argparse
import builtins
import math

import pytest
import torch
import torch.nn.functional as F

from clvae.config import ModelConfig
from clvae.data.palettes import load_palette
from clvae.importers import (
    AUTHORS_BLOCK_LAYERS,
    PUBLISHED,
    CheckpointImportError,
    add_import_parser,
    import_checkpoint,
    import_notes,
    model_config,
    plan_transfers,
)
from clvae.model import Synthesizer
from clvae.model.generator import describe_conditioning
from clvae.model_io import load_synthesizer
from tests.conftest import blocky_labels

SMALL_NGF = 8
HIDDEN = 128  # SPADE's fixed mlp_shared width
Z_DIM = 256

# ---- the published layouts, from SPADE's / the authors' module definitions ----------------------


def sn_conv_layout(prefix: str, cout: int, cin: int, kernel: int, bias: bool = True) -> dict:
    """torch.nn.utils.spectral_norm on a conv: weight_orig, weight_u (out), weight_v (in*k*k)."""
    shapes = {f"{prefix}.weight_orig": (cout, cin, kernel, kernel), f"{prefix}.weight_u": (cout,),
              f"{prefix}.weight_v": (cin * kernel * kernel,)}
    if bias:
        shapes[f"{prefix}.bias"] = (cout,)
    return shapes


def conv_layout(prefix: str, cout: int, cin: int, kernel: int) -> dict:
    return {f"{prefix}.weight": (cout, cin, kernel, kernel), f"{prefix}.bias": (cout,)}


def spade_layout(prefix: str, channels: int, label_nc: int) -> dict:
    """SPADE('spadesyncbatch3x3', channels, label_nc): batch-norm stats and three convs."""
    shapes = {f"{prefix}.param_free_norm.running_mean": (channels,),
              f"{prefix}.param_free_norm.running_var": (channels,),
              f"{prefix}.param_free_norm.num_batches_tracked": ()}
    shapes.update(conv_layout(f"{prefix}.mlp_shared.0", HIDDEN, label_nc, 3))
    shapes.update(conv_layout(f"{prefix}.mlp_gamma", channels, HIDDEN, 3))
    shapes.update(conv_layout(f"{prefix}.mlp_beta", channels, HIDDEN, 3))
    return shapes


def resblock_layout(name: str, fin: int, fout: int, label_nc: int) -> dict:
    middle = min(fin, fout)
    shapes = {**sn_conv_layout(f"{name}.conv_0", middle, fin, 3), **sn_conv_layout(f"{name}.conv_1", fout, middle, 3)}
    if fin != fout:
        shapes.update(sn_conv_layout(f"{name}.conv_s", fout, fin, 1, bias=False))
    shapes.update(spade_layout(f"{name}.norm_0", fin, label_nc))
    shapes.update(spade_layout(f"{name}.norm_1", middle, label_nc))
    if fin != fout:
        shapes.update(spade_layout(f"{name}.norm_s", fin, label_nc))
    return shapes


BLOCKS = (("head_0", 16, 16), ("G_middle_0", 16, 16), ("G_middle_1", 16, 16),
          ("up_0", 16, 8), ("up_1", 8, 4), ("up_2", 4, 2), ("up_3", 2, 1))


def generator_layout(ngf: int, semantic_nc: int, start: tuple[int, int], code_dim: int | None) -> dict:
    """SPADEGenerator; with code_dim, the authors' version (embedding, z -> fc, CSE blocks)."""
    sh, sw = start
    if code_dim:
        shapes = {"embedding.weight": (semantic_nc, code_dim),
                  "fc.weight": (16 * ngf * sh * sw, Z_DIM), "fc.bias": (16 * ngf * sh * sw,)}
    else:
        shapes = conv_layout("fc", 16 * ngf, semantic_nc, 3)
    for name, fin, fout in BLOCKS:
        cond = semantic_nc if (name == "up_3" or not code_dim) else code_dim
        shapes.update(resblock_layout(name, fin * ngf, fout * ngf, cond))
    shapes.update(conv_layout("conv_img", 3, ngf, 3))
    return shapes


def encoder_layout(ngf: int, code_dim: int) -> dict:
    """The authors' ConvEncoder: six spectral-instance convs, fc_mu/var, fc_mu{l}/fc_var{l}."""
    channels = [3, ngf, 2 * ngf, 4 * ngf, 8 * ngf, 8 * ngf, 8 * ngf]
    shapes = {}
    for layer in range(1, 7):
        shapes.update(sn_conv_layout(f"layer{layer}.0", channels[layer], channels[layer - 1], 3, bias=False))
    for head in ("fc_mu", "fc_var"):
        shapes.update({f"{head}.weight": (Z_DIM, 8 * ngf * 16), f"{head}.bias": (Z_DIM,)})
    for layer in range(1, 6):
        for head in ("fc_mu", "fc_var"):
            shapes.update({f"{head}{layer}.weight": (code_dim, channels[layer]), f"{head}{layer}.bias": (code_dim,)})
    return shapes


def published_layouts(source: str, dataset: str, ngf: int) -> dict[str, dict]:
    published = PUBLISHED[(source, dataset)]
    more = published.upsampling == "more"
    start_w = published.crop_size // (64 if more else 32)
    start = (round(start_w / published.aspect_ratio), start_w)
    layouts = {"netG": generator_layout(ngf, published.semantic_nc, start, published.code_dim)}
    if source == "authors":
        layouts["netE"] = encoder_layout(ngf, published.code_dim)
    return layouts


def fill(shapes: dict, seed: int) -> dict[str, torch.Tensor]:
    """Distinct random values per tensor (weights scaled by fan-in), u and v the top singular
    vectors of their weight (power iteration), positive variances, distinct counters."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for index, (key, shape) in enumerate(shapes.items()):
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(1000 + index)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=g) + 0.5
        else:
            fan_in = math.prod(shape[1:]) if len(shape) > 1 else 100
            state[key] = torch.randn(shape, generator=g) / math.sqrt(fan_in)
    for key in [k for k in shapes if k.endswith(".weight_orig")]:
        state[key.replace("_orig", "_u")], state[key.replace("_orig", "_v")] = top_singular_vectors(state[key], g)
    return state


def top_singular_vectors(weight: torch.Tensor, g: torch.Generator, steps: int = 30):
    matrix = weight.flatten(1)
    v = F.normalize(torch.randn(matrix.shape[1], generator=g), dim=0)
    for _ in range(steps):
        u = F.normalize(matrix @ v, dim=0)
        v = F.normalize(matrix.t() @ u, dim=0)
    return u, v


def write_published(tmp_path, source: str, dataset: str, ngf: int = SMALL_NGF, seed: int = 0, **save_options):
    """Save the published files of (source, dataset); return their states and import kwargs."""
    states = {net: fill(shapes, seed + i) for i, (net, shapes) in enumerate(published_layouts(source, dataset, ngf).items())}
    paths = {}
    for net, state in states.items():
        paths[net] = tmp_path / f"{dataset}_latest_net_{net[-1]}.pth"
        torch.save(state, paths[net], **save_options)
    return states, paths


def import_small(source: str, dataset: str, paths: dict) -> Synthesizer:
    return import_checkpoint(source, netG=paths["netG"], netE=paths.get("netE"), dataset=dataset, ngf=SMALL_NGF)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """(source, dataset) -> (published states, their paths, the imported model), made once."""
    cache = {}

    def get(source: str, dataset: str):
        if (source, dataset) not in cache:
            states, paths = write_published(tmp_path_factory.mktemp(f"{source}_{dataset}"), source, dataset)
            cache[(source, dataset)] = states, paths, import_small(source, dataset, paths)
        return cache[(source, dataset)]

    return get


# ---- a functional reading of their forward passes -----------------------------------------------


def ref_conv(state: dict, prefix: str, x: torch.Tensor, padding: int, stride: int = 1) -> torch.Tensor:
    if f"{prefix}.weight_orig" in state:  # spectral norm at eval: W / (u . W v)
        weight = state[f"{prefix}.weight_orig"]
        sigma = state[f"{prefix}.weight_u"] @ (weight.flatten(1) @ state[f"{prefix}.weight_v"])
        weight = weight / sigma
    else:
        weight = state[f"{prefix}.weight"]
    return F.conv2d(x, weight, state.get(f"{prefix}.bias"), stride=stride, padding=padding)


def ref_spade(state: dict, prefix: str, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
    stats = f"{prefix}.param_free_norm"
    normalized = F.batch_norm(x, state[f"{stats}.running_mean"], state[f"{stats}.running_var"], training=False)
    hidden = F.relu(ref_conv(state, f"{prefix}.mlp_shared.0", F.interpolate(seg, size=x.shape[2:]), 1))
    return normalized * (1 + ref_conv(state, f"{prefix}.mlp_gamma", hidden, 1)) + ref_conv(state, f"{prefix}.mlp_beta", hidden, 1)


def ref_block(state: dict, name: str, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
    if f"{name}.conv_s.weight_orig" in state:
        shortcut = ref_conv(state, f"{name}.conv_s", ref_spade(state, f"{name}.norm_s", x, seg), 0)
    else:
        shortcut = x
    dx = ref_conv(state, f"{name}.conv_0", F.leaky_relu(ref_spade(state, f"{name}.norm_0", x, seg), 0.2), 1)
    dx = ref_conv(state, f"{name}.conv_1", F.leaky_relu(ref_spade(state, f"{name}.norm_1", dx, seg), 0.2), 1)
    return shortcut + dx


def ref_generator(state: dict, seg: torch.Tensor, upsampling: str, start: tuple[int, int], conds=None, z=None):
    """SPADEGenerator.forward; ``conds``: the authors' per-block CSE maps (else every block gets seg)."""
    if z is None:
        x = ref_conv(state, "fc", F.interpolate(seg, size=start), 1)
    else:
        x = F.linear(z, state["fc.weight"], state["fc.bias"]).view(z.shape[0], -1, *start)
    conds = conds or {}
    ups_before = {"G_middle_0": True, "G_middle_1": upsampling == "more", "up_0": True, "up_1": True,
                  "up_2": True, "up_3": True}
    for name, _, _ in BLOCKS:
        if ups_before.get(name, False):
            x = F.interpolate(x, scale_factor=2)
        x = ref_block(state, name, x, conds.get(name, seg))
    return torch.tanh(ref_conv(state, "conv_img", F.leaky_relu(x, 0.2), 1))


def authors_conditioning(state: dict, label: torch.Tensor, codes) -> dict[str, torch.Tensor]:
    """The authors' CSE maps: embedding + class code of layer l at 1/2^l of the image."""
    maps = {}
    for l in range(1, 6):
        small = F.interpolate(label[:, None].float(), size=(label.shape[1] >> l, label.shape[2] >> l))[:, 0].long()
        per_pixel = torch.stack([codes.layers[l][b][small[b]] for b in range(label.shape[0])])
        maps[l] = (state["embedding.weight"][small] + per_pixel).permute(0, 3, 1, 2)
    return {block: maps[layer] for block, layer in AUTHORS_BLOCK_LAYERS.items() if layer is not None}


def ref_encoder_means(state: dict, image: torch.Tensor, label: torch.Tensor, classes: int):
    """ConvEncoder.forward of the authors: z_1's mean and each layer's per-class means."""
    x = F.interpolate(image, size=(256, 256), mode="bilinear")
    label = F.interpolate(label[:, None].float(), size=(256, 256))[:, 0].long()
    features = []
    for layer in range(1, 7):
        x = F.instance_norm(ref_conv(state, f"layer{layer}.0", x if layer == 1 else F.leaky_relu(x, 0.2), 1, 2))
        features.append(x)
    z_mean = F.linear(F.leaky_relu(x, 0.2).flatten(1), state["fc_mu.weight"], state["fc_mu.bias"])
    layer_means = {}
    for layer in range(1, 6):
        small = F.interpolate(label[:, None].float(), size=(256 >> layer, 256 >> layer))[:, 0].long()
        means = torch.zeros(label.shape[0], classes, state[f"fc_mu{layer}.weight"].shape[0])
        for b in range(label.shape[0]):
            for c in small[b].unique().tolist():
                pooled = features[layer - 1][b][:, small[b] == c].max(dim=1).values
                means[b, c] = F.linear(F.leaky_relu(pooled, 0.2), state[f"fc_mu{layer}.weight"], state[f"fc_mu{layer}.bias"])
        layer_means[layer] = means
    return z_mean, layer_means


def one_hot_input(label: torch.Tensor, published, semantic_nc: int) -> torch.Tensor:
    """Their label input for our label map: each class at its channel; instance edges zero."""
    channels = torch.tensor(published.label_channels())[label]
    return F.one_hot(channels, semantic_nc).permute(0, 3, 1, 2).float()


# ---- tests -------------------------------------------------------------------------------------

ALL = sorted(PUBLISHED)


@pytest.mark.parametrize("source,dataset", [("authors", "ade20k"), ("spade", "cityscapes"), ("authors", "deepfashion")])
def test_full_size_layout_matches_the_published_architecture(source, dataset):
    """At the published widths, the importer expects exactly their keys and shapes (not run)."""
    published = PUBLISHED[(source, dataset)]
    with torch.device("meta"):
        model = Synthesizer(model_config(source, published))
    expected = {}
    for t in plan_transfers(model, published.semantic_nc):
        expected.setdefault(t.net, {})[t.theirs] = t.shape
    assert expected == published_layouts(source, dataset, published.ngf)


def parameter_count(shapes: dict) -> float:
    buffers = ("weight_u", "weight_v", "running_mean", "running_var", "num_batches_tracked")
    return sum(math.prod(s) for k, s in shapes.items() if not k.endswith(buffers)) / 1e6


def test_published_sizes_match_the_reference_notes():
    """G 111.9 M / E 10.9 M (authors' ADE20K), 93.0 M (SPADE Cityscapes), ~491 M (DeepFashion)."""
    ade = published_layouts("authors", "ade20k", 64)
    assert round(parameter_count(ade["netG"]), 1) in (111.9, 112.0) and round(parameter_count(ade["netE"]), 1) == 10.9
    assert round(parameter_count(published_layouts("spade", "cityscapes", 64)["netG"]), 1) == 93.0
    assert 485 < parameter_count(published_layouts("authors", "deepfashion", 160)["netG"]) < 500


@pytest.mark.parametrize("source,dataset", ALL)
def test_every_weight_lands_once(imported, source, dataset):
    """Each of our tensors equals exactly one published tensor (label channels picked), and
    every published tensor is used."""
    states, _, model = imported(source, dataset)
    published = PUBLISHED[(source, dataset)]
    candidates = published_by_shape(states, published.semantic_nc, torch.tensor(published.label_channels()))
    used = set()
    for ours, tensor in model.state_dict().items():
        assert not tensor.is_meta, ours
        matches = [name for name, theirs in candidates.get(tuple(tensor.shape), []) if torch.equal(tensor, theirs)]
        assert len(matches) == 1, (ours, matches)
        used.add(matches[0])
    assert used == {(net, key) for net, state in states.items() for key in state}


def published_by_shape(states: dict, semantic_nc: int, channels: torch.Tensor) -> dict:
    """shape -> [((net, key), tensor as float)], with each label axis also as our classes' channels."""
    by_shape = {}
    for net, state in states.items():
        for key, tensor in state.items():
            forms = [tensor.float() if tensor.is_floating_point() else tensor]
            forms += [tensor.index_select(axis, channels) for axis, size in enumerate(tensor.shape)
                      if size == semantic_nc and len(channels) != semantic_nc]
            for form in forms:
                by_shape.setdefault(tuple(form.shape), []).append(((net, key), form))
    return by_shape


def test_known_weights_land_in_the_right_modules(imported):
    states, _, model = imported("authors", "ade20k")
    g, e = states["netG"], states["netE"]
    conv = model.generator.head_0.conv_0.parametrizations.weight
    assert torch.equal(conv.original, g["head_0.conv_0.weight_orig"])
    assert torch.equal(conv[0]._u, g["head_0.conv_0.weight_u"]) and torch.equal(conv[0]._v, g["head_0.conv_0.weight_v"])
    assert torch.equal(model.generator.up_0.conv_s.parametrizations.weight.original, g["up_0.conv_s.weight_orig"])
    assert torch.equal(model.generator.cse.weight, g["embedding.weight"])  # nn.Embedding rows are W^T already
    assert torch.equal(model.generator.up_3.norm_1.param_free_norm.running_var, g["up_3.norm_1.param_free_norm.running_var"])
    assert torch.equal(model.encoder.blocks[2][0].parametrizations.weight[0]._u, e["layer3.0.weight_u"])
    assert torch.equal(model.encoder.fc_var_layers["4"].weight, e["fc_var4.weight"])
    assert torch.equal(model.encoder.fc_mu.bias, e["fc_mu.bias"])


def test_cityscapes_keeps_each_class_label_id_and_drops_the_edge_channel(imported):
    states, _, model = imported("spade", "cityscapes")
    theirs = states["netG"]["up_1.norm_0.mlp_shared.0.weight"]
    ours = model.generator.up_1.norm_0.mlp_shared[0].weight
    assert theirs.shape[1] == 36 and ours.shape[1] == 20  # 35 label ids + instance edges -> 20 classes
    assert torch.equal(ours[:, 0], theirs[:, 7]) and torch.equal(ours[:, 18], theirs[:, 33])  # road, bicycle
    assert torch.equal(ours[:, 19], theirs[:, 0])  # other <- unlabeled
    assert any("instance-edge" in note for note in import_notes("spade", "cityscapes"))


@pytest.mark.parametrize("dataset", ["ade20k", "cityscapes", "coco"])
def test_gaugan_import_computes_what_spade_computes(imported, dataset):
    states, _, model = imported("spade", dataset)
    cfg, published = model.cfg, PUBLISHED[("spade", dataset)]
    label = blocky_labels(1, cfg.height, cfg.width, cfg.num_classes, block=16)
    with torch.no_grad():
        ours = model(label)
        theirs = ref_generator(states["netG"], one_hot_input(label, published, published.semantic_nc),
                               published.upsampling, cfg.start_size)
    assert ours.shape == (1, 3, *published.image_size())
    assert 0.05 < ours.abs().mean() < 0.95
    torch.testing.assert_close(ours, theirs, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("dataset", ["ade20k", "deepfashion", "gta5"])
def test_authors_import_computes_what_their_code_computes(imported, dataset):
    states, _, model = imported("authors", dataset)
    cfg, published = model.cfg, PUBLISHED[("authors", dataset)]
    assert describe_conditioning(cfg)["G_middle_0"] == "layer 4"  # also under "more" upsampling
    label = blocky_labels(1, cfg.height, cfg.width, cfg.num_classes, block=16)
    image = torch.rand(1, 3, cfg.height, cfg.width) * 2 - 1
    codes = model.prior(label, torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours = model(label, codes)
        seg = one_hot_input(label, published, published.semantic_nc)
        theirs = ref_generator(states["netG"], seg, published.upsampling, cfg.start_size,
                               authors_conditioning(states["netG"], label, codes), codes.z_global)
        posterior = model.encode(image, label)
        z_mean, layer_means = ref_encoder_means(states["netE"], image, label, cfg.num_classes)
    assert ours.shape == (1, 3, *published.image_size())
    assert 0.05 < ours.abs().mean() < 0.95
    torch.testing.assert_close(ours, theirs, atol=2e-5, rtol=1e-4)
    torch.testing.assert_close(posterior.mu.z_global, z_mean, atol=1e-5, rtol=1e-4)
    for layer, means in layer_means.items():
        torch.testing.assert_close(posterior.mu.layers[layer], means, atol=1e-5, rtol=1e-4)


def test_config_of_each_published_model():
    sizes = {("authors", "ade20k"): (256, 256), ("authors", "deepfashion"): (256, 256),
             ("authors", "gta5"): (256, 512), ("spade", "ade20k"): (256, 256),
             ("spade", "cityscapes"): (256, 512), ("spade", "coco"): (256, 256)}
    for (source, dataset), published in PUBLISHED.items():
        cfg = model_config(source, published)
        assert (cfg.height, cfg.width) == sizes[(source, dataset)]
        assert cfg.norm_G == "batch" and cfg.variant == {"authors": "clvae", "spade": "gaugan"}[source]
    assert model_config("authors", PUBLISHED[("authors", "deepfashion")]).ngf == 160
    assert model_config("authors", PUBLISHED[("authors", "gta5")]).upsampling == "more"
    coco = model_config("spade", PUBLISHED[("spade", "coco")]).classes
    assert len(coco) == 183 and coco[:182] == load_palette("coco_stuff") and "don't care" in coco[182].name
    assert model_config("spade", PUBLISHED[("spade", "ade20k")]).classes == load_palette("ade20k")


def test_legacy_format_files_import(tmp_path):
    """The published files predate PyTorch 1.6's zip format."""
    states, paths = write_published(tmp_path, "spade", "ade20k", _use_new_zipfile_serialization=False)
    model = import_small("spade", "ade20k", paths)
    assert torch.equal(model.generator.conv_img.weight, states["netG"]["conv_img.weight"])


def test_missing_batch_counters_are_tolerated(tmp_path):
    states, paths = write_published(tmp_path, "spade", "ade20k")
    torch.save({k: v for k, v in states["netG"].items() if not k.endswith("num_batches_tracked")}, paths["netG"])
    import_small("spade", "ade20k", paths)


def test_wrong_data_set_lists_first_mismatches_and_the_fitting_one(imported):
    _, paths, _ = imported("authors", "ade20k")
    with pytest.raises(CheckpointImportError) as err:
        import_checkpoint("authors", netG=paths["netG"], netE=paths["netE"], dataset="deepfashion", ngf=SMALL_NGF)
    message = str(err.value)
    assert "netG" in message and "mismatches" in message and "--dataset ade20k; its width is --ngf 8" in message
    assert "embedding.weight: expected (16, 16), found (151, 151)" in message


def test_wrong_width_and_swapped_files_are_reported(imported):
    _, paths, _ = imported("authors", "ade20k")
    with pytest.raises(CheckpointImportError, match=r"(?s)ngf 64.*expected \(65536, 256\), found \(8192, 256\)"):
        import_checkpoint("authors", netG=paths["netG"], netE=paths["netE"], dataset="ade20k")
    with pytest.raises(CheckpointImportError, match="swapped"):
        import_checkpoint("authors", netG=paths["netE"], netE=paths["netG"], dataset="ade20k", ngf=SMALL_NGF)


def test_encoder_file_rules(imported):
    _, paths, _ = imported("authors", "gta5")
    with pytest.raises(CheckpointImportError, match="needs its encoder"):
        import_checkpoint("authors", netG=paths["netG"], dataset="gta5", ngf=SMALL_NGF)
    with pytest.raises(CheckpointImportError, match="no encoder"):
        import_checkpoint("spade", netG=paths["netG"], netE=paths["netE"], dataset="ade20k", ngf=SMALL_NGF)
    with pytest.raises(CheckpointImportError, match="published no 'gta5'"):
        import_checkpoint("spade", netG=paths["netG"], dataset="gta5")


def test_truncated_and_foreign_files_are_clear_errors(tmp_path):
    _, paths = write_published(tmp_path, "spade", "ade20k")
    data = paths["netG"].read_bytes()
    paths["netG"].write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointImportError, match="not a readable PyTorch checkpoint"):
        import_small("spade", "ade20k", paths)
    paths["netG"].write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointImportError, match="not a readable PyTorch checkpoint"):
        import_small("spade", "ade20k", paths)
    torch.save([torch.zeros(3)], paths["netG"])
    with pytest.raises(CheckpointImportError, match="not a state dict"):
        import_small("spade", "ade20k", paths)
    with pytest.raises(CheckpointImportError, match="No such file"):
        import_small("spade", "ade20k", {"netG": tmp_path / "absent.pth"})


class CreatesAFile:
    """A pickle payload: unpickling it calls open(path, "w"), creating the file."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return builtins.open, (self.path, "w")


def test_a_pickle_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "latest_net_G.pth"
    torch.save({"fc.weight": torch.zeros(1), "fc.bias": CreatesAFile(marker)}, path)
    with pytest.raises(CheckpointImportError, match="refused"):
        import_checkpoint("spade", netG=path, dataset="ade20k")
    assert not marker.exists()


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="clvae")
    add_import_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_writes_a_model_file_the_daemon_loads(imported, tmp_path, capsys):
    _, paths, direct = imported("authors", "gta5")
    out = tmp_path / "gta5.safetensors"
    status = run_cli(["import", "--from", "authors", "--netG", str(paths["netG"]), "--netE", str(paths["netE"]),
                      "--dataset", "gta5", "--out", str(out), "--ngf", str(SMALL_NGF)])
    assert status == 0 and "512 x 256 (width x height)" in capsys.readouterr().out
    loaded = load_synthesizer(out)
    assert loaded.cfg == direct.cfg and loaded.cfg.block_layers == AUTHORS_BLOCK_LAYERS
    for key, tensor in direct.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], tensor), key


def test_cli_errors_exit_2_with_one_message(imported, tmp_path, capsys):
    _, paths, _ = imported("spade", "coco")
    status = run_cli(["import", "--from", "spade", "--netG", str(paths["netG"]), "--dataset", "cityscapes",
                      "--out", str(tmp_path / "x.safetensors"), "--ngf", str(SMALL_NGF)])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("clvae import: error: netG") and "--dataset coco" in err
    assert not (tmp_path / "x.safetensors").exists()


def test_block_layers_option_is_validated():
    classes = load_palette("deepfashion")
    with pytest.raises(ValueError, match="encoder layers without codes"):
        ModelConfig(classes, block_layers={**AUTHORS_BLOCK_LAYERS, "up_3": 6})
    with pytest.raises(ValueError, match="class-wise codes"):
        ModelConfig(classes, variant="gaugan", block_layers=dict(AUTHORS_BLOCK_LAYERS))
    with pytest.raises(ValueError, match="name exactly the blocks"):
        Synthesizer(ModelConfig(classes, ngf=4, upsampling="most", height=512, width=512,
                                block_layers=dict(AUTHORS_BLOCK_LAYERS)))
    cfg = ModelConfig(classes, block_layers=dict(AUTHORS_BLOCK_LAYERS))
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
