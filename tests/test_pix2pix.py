"""The pix2pix recipe's step: its two halves, and the losses of seeded steps on tiny nets."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch

from daguerre.training import resolve_config
from daguerre.training.recipes import Pix2Pix

TINY_UNET = {"type": "unet", "base_channels": 4, "depth": 2, "out_activation": "sigmoid"}
TINY_PATCH = {"type": "patch", "base_channels": 4, "n_layers": 1}
EVERY_TERM = {"adv": 1.0, "l1": 100.0, "fm": 2.0, "fft": 0.5}
EVERY_TERM |= {"tone": 3.0, "psnr": 0.25, "ssim": 1.5, "real": 0.75}

# model sections of the cases below: the defaults' terms, every term (a toned_unet generator
# and a real domain), and a multi-scale batch-normed discriminator with feature matching
CASES: dict[str, dict[str, Any]] = {
    "plain": {"generator": TINY_UNET, "discriminator": TINY_PATCH},
    "every_term": {
        "generator": {
            "type": "toned_unet",
            "tone": {"thumb_size": 32, "width": 4, "knots": 4, "grid": 2},
            "unet": {k: v for k, v in TINY_UNET.items() if k != "type"},
        },
        "discriminator": TINY_PATCH,
        "weights": EVERY_TERM,
        "gan_mode": "lsgan",
    },
    "multiscale": {
        "generator": TINY_UNET,
        "discriminator": {**TINY_PATCH, "type": "multiscale", "num_scales": 2, "norm": "batch"},
        "weights": {"fm": 10.0},
        "gan_mode": "hinge",
    },
}


def recipe_of(model: dict[str, Any], seed: int = 0) -> Pix2Pix:
    """A pix2pix recipe with fresh networks (seeded) attached on the CPU."""
    config = resolve_config(
        {"recipe": "pix2pix", "model": copy.deepcopy(model)},
        data={"train": "photos", "real": "real"},
    )
    recipe = Pix2Pix(config)
    torch.manual_seed(seed)
    nets = recipe.build_nets()
    recipe.attach(nets, nets, torch.device("cpu"))
    return recipe


def batch_of(recipe: Pix2Pix, seed: int, n: int = 2, size: int = 16) -> dict[str, torch.Tensor]:
    """Tiny generated pairs: a smooth target and an input faded, tinted and noised from it."""
    rng = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, size // 4, size // 4, generator=rng)
    target = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear")
    tint = torch.tensor([1.0, 0.9, 0.7]).view(1, 3, 1, 1)
    noise = 0.05 * torch.randn(n, 3, size, size, generator=rng)
    source = (0.6 * target * tint + 0.2 + noise).clamp(0, 1)
    batch = {"input": source, "target": target}
    if recipe.real_domain:
        batch["real"] = (0.5 * torch.rand(n, 3, size, size, generator=rng) + 0.25).clamp(0, 1)
    return batch


def run_steps(model: dict[str, Any], steps: int = 3) -> list[dict[str, float]]:
    """The logged losses of ``steps`` seeded steps with Adam per optimiser, as the trainer does."""
    recipe = recipe_of(model)
    optimizers = {
        name: torch.optim.Adam(
            [p for net in nets for p in recipe.nets[net].parameters()], lr=1e-3, betas=(0.5, 0.999)
        )
        for name, nets in recipe.optimizers().items()
    }

    def optimize(name: str, loss: torch.Tensor) -> None:
        optimizers[name].zero_grad(set_to_none=True)
        loss.backward()
        optimizers[name].step()

    torch.manual_seed(1)
    return [
        {
            key: value.item()
            for key, value in recipe.train_step(batch_of(recipe, i), optimize).items()
        }
        for i in range(steps)
    ]


# The losses logged by run_steps, recorded (CPU, one thread) with the step as it was before it was
# split into _d_loss and _g_terms; the split left every one bit for bit the same.
RECORDED = {
    "every_term": [
        {
            "d": 1.0171949863433838,
            "g_adv": 0.9237673878669739,
            "g_l1": 21.199851989746094,
            "g_fm": 0.18553943932056427,
            "g_fft": 0.04940490797162056,
            "g_psnr": -0.2930821180343628,
            "g_ssim": 1.3709889650344849,
            "g_real": 0.7299324870109558,
            "g_tone": 0.26216018199920654,
        },
        {
            "d": 0.9569101333618164,
            "g_adv": 0.8446715474128723,
            "g_l1": 19.377113342285156,
            "g_fm": 0.14660029113292694,
            "g_fft": 0.04589676856994629,
            "g_psnr": -0.30712950229644775,
            "g_ssim": 1.3434193134307861,
            "g_real": 0.6721123456954956,
            "g_tone": 0.24512407183647156,
        },
        {
            "d": 0.8910741806030273,
            "g_adv": 0.7823044657707214,
            "g_l1": 18.330747604370117,
            "g_fm": 0.11936482787132263,
            "g_fft": 0.04498892277479172,
            "g_psnr": -0.3229749798774719,
            "g_ssim": 1.4077590703964233,
            "g_real": 0.6160584092140198,
            "g_tone": 0.24432843923568726,
        },
    ],
    "multiscale": [
        {
            "d": 0.998636782169342,
            "g_adv": 0.00065754191018641,
            "g_l1": 25.074417114257812,
            "g_fm": 1.177904486656189,
        },
        {
            "d": 0.9985663890838623,
            "g_adv": -0.008690930902957916,
            "g_l1": 23.676002502441406,
            "g_fm": 1.0760159492492676,
        },
        {
            "d": 0.9955960512161255,
            "g_adv": 0.012296918779611588,
            "g_l1": 21.934391021728516,
            "g_fm": 1.1122664213180542,
        },
    ],
    "plain": [
        {"d": 0.6980569362640381, "g_adv": 0.6917133331298828, "g_l1": 25.074417114257812},
        {"d": 0.6935952305793762, "g_adv": 0.6948668360710144, "g_l1": 23.67046546936035},
        {"d": 0.6935006976127625, "g_adv": 0.6928632259368896, "g_l1": 21.919042587280273},
    ],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_seeded_steps_log_the_recorded_losses(case: str) -> None:
    logged = run_steps(CASES[case])
    assert [list(step) for step in logged] == [list(step) for step in RECORDED[case]]
    assert logged == [pytest.approx(step, rel=1e-6, abs=1e-6) for step in RECORDED[case]]


def grads(net: torch.nn.Module) -> list[bool]:
    """Whether each parameter of ``net`` received a gradient."""
    return [p.grad is not None for p in net.parameters()]


@pytest.mark.parametrize(
    ("case", "names"),
    [
        ("plain", ["g_adv", "g_l1"]),
        ("multiscale", ["g_adv", "g_l1", "g_fm"]),
        (
            "every_term",
            ["g_adv", "g_l1", "g_fm", "g_fft", "g_psnr", "g_ssim", "g_real", "g_tone"],
        ),
    ],
)
def test_generator_half_returns_its_terms_by_name_and_trains_only_g(
    case: str, names: list[str]
) -> None:
    recipe = recipe_of(CASES[case])
    batch = batch_of(recipe, 0)
    terms = recipe._g_terms(batch, recipe._generate(batch))
    assert list(terms) == names
    assert all(term.shape == () and torch.isfinite(term) for term in terms.values())
    torch.stack(list(terms.values())).sum().backward()
    assert all(grads(recipe.nets["g"]))
    for name in recipe.optimizers()["d"]:  # frozen while G's terms were computed, then thawed
        assert not any(grads(recipe.nets[name]))
        assert all(p.requires_grad for p in recipe.nets[name].parameters())


@pytest.mark.parametrize("case", ["plain", "every_term"])
def test_discriminator_half_is_differentiable_in_the_discriminators_only(case: str) -> None:
    recipe = recipe_of(CASES[case])
    batch = batch_of(recipe, 0)
    d_loss = recipe._d_loss(batch, recipe._generate(batch))
    assert d_loss.shape == () and d_loss.requires_grad
    d_loss.backward()
    discriminators = recipe.optimizers()["d"]
    assert discriminators == (("d", "d_real") if case == "every_term" else ("d",))
    for name in discriminators:
        assert all(grads(recipe.nets[name]))
    assert not any(grads(recipe.nets["g"]))
