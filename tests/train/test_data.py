"""The training stream: seeded order, exact mid-epoch restart, paired flips, clear errors."""

from __future__ import annotations

import pytest
import torch

from clvae.train.config import DataSettings
from clvae.train.data import Position, TrainingStream, build_training_set, random_flip
from clvae.train.errors import TrainError


class Numbers(torch.utils.data.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, index):
        return {"index": torch.tensor(index)}


def take(stream, count):
    batches = iter(stream)
    taken = []
    for _ in range(count):
        taken.append(next(batches)["index"].tolist())
        stream.advance()
    return taken


def make_stream(rank=0, world_size=1):
    return TrainingStream(Numbers(), batch_size=3, num_workers=0, seed=5, rank=rank, world_size=world_size,
                          pin_memory=False)


def test_epochs_are_seeded_permutations_without_the_partial_batch():
    stream = make_stream()
    assert stream.batches_per_epoch == 3
    first, second = take(stream, 3), take(stream, 3)
    assert len({i for batch in first for i in batch}) == 9
    assert first != second and stream.position == Position(epoch=2, batch=0)
    assert take(make_stream(), 6) == first + second


@pytest.mark.parametrize("done", [1, 2, 3, 4])
def test_a_stream_restarted_at_a_position_continues_the_same_order(done):
    straight = take(make_stream(), 7)
    stream = make_stream()
    take(stream, done)
    restarted = make_stream()
    restarted.position = Position(stream.position.epoch, stream.position.batch)
    assert take(restarted, 7 - done) == straight[done:]


def test_processes_get_disjoint_shares():
    shares = [set(i for b in take(make_stream(rank, 2), 1) for i in b) for rank in range(2)]
    assert not shares[0] & shares[1]


def test_flip_mirrors_image_and_label_together():
    image = torch.arange(2 * 3 * 2 * 4, dtype=torch.float32).view(2, 3, 2, 4)
    label = torch.arange(2 * 2 * 4).view(2, 2, 4)
    flipped_image, flipped_label = random_flip(image, label, torch.Generator().manual_seed(1))
    for b in range(2):
        mirrored = torch.equal(flipped_image[b], image[b].flip(-1))
        assert mirrored == torch.equal(flipped_label[b], label[b].flip(-1))
        assert mirrored or torch.equal(flipped_image[b], image[b])


def test_an_empty_data_set_is_a_clear_error():
    with pytest.raises(TrainError, match="procedural data set .* is empty"):
        build_training_set(DataSettings(size=(32, 64), length=0))


def test_a_data_set_smaller_than_a_batch_is_a_clear_error():
    with pytest.raises(TrainError, match="10 images: fewer than one batch of 4 for each of 4"):
        TrainingStream(Numbers(), 4, 0, 0, rank=0, world_size=4, pin_memory=False)


def test_images_of_another_size_than_data_size_are_a_clear_error(tmp_path):
    with pytest.raises(TrainError, match="yields 32 x 64 .* data.size is \\[64, 64\\]"):
        build_training_set(DataSettings(size=(64, 64), length=2, options={"size": (32, 64)}))


def test_a_missing_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(TrainError, match="cannot open the ade20k data set"):
        build_training_set(DataSettings(kind="ade20k", root=str(tmp_path / "nowhere")))
