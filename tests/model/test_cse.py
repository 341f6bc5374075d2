import torch

from clvae.model.cse import CSE, dense_cse
from tests.conftest import blocky_labels


def test_gather_equals_dense_formula():
    cse = CSE(num_classes=7, code_channels=5)
    label = torch.randint(0, 7, (3, 9, 11))
    codes = torch.randn(3, 7, 5)
    torch.testing.assert_close(cse(label, codes), dense_cse(label, codes, cse.weight), rtol=0, atol=1e-6)


def test_gather_equals_dense_for_a_shared_code_row():
    cse = CSE(num_classes=4, code_channels=6)
    label = torch.randint(0, 4, (2, 5, 5))
    codes = torch.randn(2, 1, 6)
    torch.testing.assert_close(cse(label, codes), dense_cse(label, codes, cse.weight), rtol=0, atol=1e-6)


def test_gradients_match_dense_formula():
    cse = CSE(num_classes=6, code_channels=4)
    label = blocky_labels(2, 8, 8, 6, block=2)
    codes = torch.randn(2, 6, 4, requires_grad=True)
    upstream = torch.randn(2, 4, 8, 8)
    (cse(label, codes) * upstream).sum().backward()
    gather_grads = codes.grad.clone(), cse.weight.grad.clone()
    codes.grad, cse.weight.grad = None, None
    (dense_cse(label, codes, cse.weight) * upstream).sum().backward()
    torch.testing.assert_close(gather_grads[0], codes.grad, rtol=0, atol=1e-5)
    torch.testing.assert_close(gather_grads[1], cse.weight.grad, rtol=0, atol=1e-5)


def test_resampling_one_class_changes_features_only_inside_it():
    cse = CSE(num_classes=5, code_channels=3)
    label = blocky_labels(1, 16, 16, 5, seed=3, block=4)
    target = int(label[0, 0, 0])
    codes = torch.randn(1, 5, 3)
    rerolled = codes.clone()
    rerolled[:, target] = torch.randn(3)
    before, after = cse(label, codes), cse(label, rerolled)
    inside = (label == target).unsqueeze(1).expand_as(before)
    assert torch.equal(before[~inside], after[~inside])
    assert (before[inside] != after[inside]).all()
