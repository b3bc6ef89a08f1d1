"""Lattice phase guide and periodic component for periodic exemplars (lattice_guide.py)."""
import numpy as np
import pytest
import torch

from imaging.lattice import find_lattice
from textures.synthesis.colour import ChannelBasis
from textures.synthesis.lattice_guide import find_guide, torus_counts
from textures.synthesis.metrics import relative_patch_swd, seam_excess
from textures.synthesis.optimise import SynthesisSettings, synthesize
from textures.synthesis.patch_swd import PatchSWD
from textures.synthesis.procedural import bricks, noise, stones, weave

FAST = SynthesisSettings(steps_coarsest=25, steps_finest=8, coarsest=16, projections=16)


def as_tensor(image):
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()


def as_image(tensor):
    return tensor[0].permute(1, 2, 0).clamp(0, 1).numpy()


def whitened(image):
    tensor = as_tensor(image)
    return ChannelBasis.fit(tensor).whiten(tensor)


def tiled_cell(cell_h, cell_w, size, seed=0):
    """(size,size,3) exact tiling of one random cell below the Nyquist frequency (a sum of
    its harmonics up to 3/8 cycles per pixel), with no per-cell variation."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    image = np.full((size, size, 3), 0.5)
    for m in range(-(3 * cell_w) // 8, (3 * cell_w) // 8 + 1):
        for n in range(-(3 * cell_h) // 8, (3 * cell_h) // 8 + 1):
            if (m, n) != (0, 0):
                phase = 2 * np.pi * (m * xs / cell_w + n * ys / cell_h)
                image += 0.04 * rng.uniform(0, 1, 3) * np.cos(phase[..., None] + rng.uniform(0, 2 * np.pi, 3))
    return image.astype(np.float32)


@pytest.mark.parametrize("make,periodic", [(bricks, True), (weave, True), (noise, False), (stones, False)])
def test_guide_only_for_clearly_periodic_exemplars(make, periodic):
    guide = find_guide(whitened(make(128, seed=1)), (256, 256), weight=6.0)
    assert (guide is not None) == periodic


def test_torus_counts_fit_the_output_and_report_the_strain():
    lattice = find_lattice(bricks(128, seed=1).mean(-1), min_period=4.0)   # (16, 12), (-16, 12)
    counts, strain = torus_counts(lattice, (200, 256))
    fitted = np.array([[256.0, 0.0], [0.0, 200.0]]) @ np.linalg.inv(counts)
    # Whole numbers of the fitted cells span the torus, and the fitted cell is the exemplar's
    # up to the reported strain (200 rows hold 16.67 courses of 12 px: 17 courses, 2 % squeeze).
    assert np.abs(counts - np.round(counts)).max() == 0
    assert 0.015 < strain < 0.03
    for j, vector in enumerate((lattice.v1, lattice.v2)):
        assert np.linalg.norm(fitted[:, j] - vector) <= strain * np.linalg.norm(vector) + 1e-9


def test_periodic_component_of_an_exact_tiling_is_the_tiling_on_exemplar_and_output():
    exemplar = tiled_cell(16, 16, 128)
    source = whitened(exemplar)
    guide = find_guide(source, (192, 160), weight=6.0)
    assert guide is not None and guide.strain < 1e-3
    component = guide.periodic_component(source)
    on_exemplar = component.on_exemplar()
    # Inside the Hann window's reach the mean cell is the cell itself.
    assert float((on_exemplar - source)[..., 16:-16, 16:-16].abs().max()) < 0.05 * float(source.std())
    # On the output torus, phase_offset(None) lines output pixel (x, y) up with exemplar (x, y).
    on_output = component.on_output((192, 160), guide.phase_offset(None))
    expected = whitened(tiled_cell(16, 16, 192))[..., :192, :160]
    assert float((on_output - expected).abs().mean()) < 0.02 * float(source.std())
    # And a random offset is a whole-pixel shift of the same pattern.
    shifted = component.on_output((192, 160), guide.phase_offset(torch.Generator().manual_seed(5)))
    errors = [float((shifted - torch.roll(expected, (dy, dx), (2, 3))).abs().mean())
              for dy in range(16) for dx in range(16)]
    assert min(errors) < 0.02 * float(source.std())


@pytest.mark.parametrize("subset", [None, 30])
@pytest.mark.parametrize("wrap", [True, False])
def test_guided_loss_gradient_matches_autograd(wrap, subset):
    """The guide joins each patch as fixed features: loss and gradient equal autograd's, and a
    guide that disagrees with the output's layout costs more than one that agrees."""
    exemplar, exemplar_guide = torch.randn(1, 3, 24, 24), torch.randn(1, 4, 24, 24)
    loss_fn = PatchSWD(exemplar, patch_size=5, projections=8, guide=exemplar_guide)
    loss_fn.redraw(torch.Generator().manual_seed(0))
    output = torch.randn(1, 3, 20, 28, requires_grad=True)
    output_guide = torch.randn(1, 4, 20, 28)
    loss = loss_fn(output, wrap=wrap, subset=subset, generator=torch.Generator().manual_seed(3),
                   output_guide=output_guide)
    loss.backward()
    value, gradient = loss_fn.gradient(output, wrap=wrap, subset=subset,
                                       generator=torch.Generator().manual_seed(3), output_guide=output_guide)
    assert value == pytest.approx(float(loss.detach()), rel=1e-5)
    torch.testing.assert_close(gradient, output.grad, rtol=1e-4, atol=1e-8)
    with pytest.raises(ValueError):
        loss_fn.gradient(output, wrap=wrap)   # a guided loss needs the output's guide


def test_guide_is_matched_jointly_with_the_patches():
    # Exemplar: left half dark with guide +1, right half bright with guide -1.
    exemplar = torch.zeros(1, 1, 32, 32)
    exemplar[..., 16:] = 1.0
    exemplar_guide = torch.ones(1, 1, 32, 32)
    exemplar_guide[..., 16:] = -1.0
    loss_fn = PatchSWD(exemplar, patch_size=3, projections=16, guide=exemplar_guide * 3)
    output = exemplar.clone()
    agreeing, swapped = [], []
    for seed in range(5):
        loss_fn.redraw(torch.Generator().manual_seed(seed))
        agreeing.append(float(loss_fn(output, wrap=False, output_guide=exemplar_guide * 3)))
        swapped.append(float(loss_fn(output, wrap=False, output_guide=-exemplar_guide * 3)))
    assert np.mean(swapped) > 10 * np.mean(agreeing) + 1e-6


@pytest.mark.parametrize("make", [bricks, weave])
def test_periodic_exemplar_keeps_one_lattice_across_the_output(make):
    exemplar = make(128, seed=1)
    expected = find_lattice(exemplar.mean(-1), min_period=4.0)
    guided = as_image(synthesize(as_tensor(exemplar), (192, 160), seed=1, settings=FAST))
    unguided = as_image(synthesize(as_tensor(exemplar), (192, 160), seed=1, settings=FAST.with_(lattice_guide=0)))
    found = find_lattice(guided.mean(-1), min_period=4.0)
    assert found is not None and found.strength > 0.75
    targets = [s * v for v in (expected.v1, expected.v2) for s in (1, -1)]
    for vector in (found.v1, found.v2):
        assert min(np.linalg.norm(vector - t) for t in targets) < 0.6
    plain = find_lattice(unguided.mean(-1), min_period=4.0)
    assert plain is None or plain.strength < found.strength - 0.2
    assert relative_patch_swd(guided, exemplar) < 0.7 * relative_patch_swd(unguided, exemplar)
    assert seam_excess(guided) < 1.2
    # Reproducible, and another seed gives another variation on the same lattice.
    again = as_image(synthesize(as_tensor(exemplar), (192, 160), seed=1, settings=FAST))
    np.testing.assert_array_equal(guided, again)
    other = as_image(synthesize(as_tensor(exemplar), (192, 160), seed=2, settings=FAST))
    assert float(np.abs(other - guided).mean()) > 0.02


def test_material_set_on_a_lattice_stays_registered_and_reports_it():
    """A periodic material (albedo + height-like roughness + normals) keeps its maps together:
    the mean cell is laid down for every map at once; the report says which lattice."""
    from textures.synthesis import run_texture_job

    albedo = bricks(128, seed=1)
    mortar = (albedo.mean(-1, keepdims=True) > 0.6).astype(np.float32)       # mortar mask
    roughness = 0.3 + 0.5 * mortar
    normal = np.concatenate([np.zeros_like(mortar), np.zeros_like(mortar), np.ones_like(mortar)], -1)
    normal[..., 0:1] += 0.3 * mortar                                          # tilted in the joints
    normal = normal / np.linalg.norm(normal, axis=-1, keepdims=True)
    result = run_texture_job({"albedo": albedo, "roughness": roughness, "normal": normal * 0.5 + 0.5},
                             count=1, output_size=(160, 192), seed=2, settings=FAST)
    lattice = result.report["lattice"]
    assert lattice is not None and lattice["strain"] < 0.05
    out = result.outputs[0]
    out_mortar = out["albedo"].mean(-1) > 0.6
    # Registered: the rough, tilted pixels are the mortar pixels of the albedo.
    assert out["roughness"][..., 0][out_mortar].mean() > out["roughness"][..., 0][~out_mortar].mean() + 0.3
    decoded = out["normal"] * 2 - 1
    np.testing.assert_allclose(np.linalg.norm(decoded, axis=-1), 1.0, atol=0.02)
    assert decoded[..., 0][out_mortar].mean() > decoded[..., 0][~out_mortar].mean() + 0.15
    plain = run_texture_job({"albedo": noise(96, seed=1)}, count=1, output_size=(96, 96), seed=0, settings=FAST)
    assert plain.report["lattice"] is None
