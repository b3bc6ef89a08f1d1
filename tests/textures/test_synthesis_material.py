"""Material sets stay registered; normals stay unit length; tileable + metrics + job."""
import numpy as np
import pytest
import torch

from textures.synthesis import TextureInputError, run_texture_job
from textures.synthesis.generator import TextureGenerator
from textures.synthesis.metrics import copy_score, diversity, relative_patch_swd, seam_score
from textures.synthesis.optimise import SynthesisSettings
from textures.synthesis.procedural import noise, stones

FAST = SynthesisSettings(steps_coarsest=25, steps_finest=8, coarsest=16, projections=16)


def make_material(size=48):
    """Albedo from stones; height = albedo luminance; normals derived from the height."""
    albedo = stones(size, seed=4)
    height = albedo.mean(axis=2, keepdims=True)
    gy, gx = np.gradient(height[..., 0] * 8.0)
    normal = np.stack([-gx, -gy, np.ones_like(gx)], axis=-1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    return {"albedo": albedo, "height": height.astype(np.float32),
            "normal": (normal * 0.5 + 0.5).astype(np.float32)}


def test_material_maps_stay_registered_and_normals_unit_length():
    material = make_material()
    result = run_texture_job(material, count=1, output_size=(64, 64), seed=3, settings=FAST)
    maps = result.outputs[0]
    assert set(maps) == {"albedo", "height", "normal"}
    assert all(m.shape[:2] == (64, 64) for m in maps.values())
    # Registered: the height still follows the albedo's luminance pixel for pixel.
    luminance = maps["albedo"].mean(axis=2).ravel()
    correlation = np.corrcoef(luminance, maps["height"][..., 0].ravel())[0, 1]
    assert correlation > 0.9
    shuffled = np.corrcoef(luminance, np.roll(maps["height"][..., 0], 3, axis=1).ravel())[0, 1]
    assert shuffled < correlation - 0.2  # a misregistration by 3 px would be visible
    vectors = maps["normal"] * 2.0 - 1.0
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=-1), 1.0, atol=1e-4)


def test_make_tileable_removes_the_seam_and_keeps_the_middle():
    photo = noise(64, seed=2)
    result = run_texture_job({"color": photo}, kind="make_tileable", seed=0, settings=FAST)
    tile = result.outputs[0]["color"]
    assert tile.shape == photo.shape
    assert seam_score(photo) > 5.0
    assert seam_score(tile) < 1.6
    middle = np.s_[24:40, 24:40]
    assert np.mean((tile[middle] - photo[middle]) ** 2) < 0.1 * np.mean((tile - photo) ** 2) + 1e-4


def test_metrics_tell_copies_seams_and_diversity_apart():
    exemplar = stones(64, seed=1)
    tiled = np.tile(exemplar, (2, 2, 1))
    other = noise(128, seed=3)
    assert seam_score(np.tile(exemplar, (1, 1, 1))) > 3.0
    assert copy_score(tiled, exemplar) > 0.9
    assert copy_score(other, exemplar) < 0.05
    assert relative_patch_swd(tiled, exemplar) < relative_patch_swd(other, exemplar)
    assert diversity([tiled, tiled]) == 0.0
    assert diversity([tiled, np.roll(tiled, 17, axis=1)]) > 0.3


@pytest.mark.parametrize("request_args, message", [
    (dict(maps={"color": np.zeros((16, 64, 3), np.float32)}), "at least 32"),
    (dict(count=0), "count"),
    (dict(count=33), "count"),
    (dict(output_size=(8, 64)), "output size"),
    (dict(mask=np.zeros((10, 10), np.float32)), "mask"),
    (dict(strength=1.5), "strength"),
    (dict(maps={"albedo": np.zeros((40, 40, 3), np.float32),
                "normal": np.zeros((48, 48, 3), np.float32)}), "same size"),
])
def test_bad_input_gets_a_clear_error(request_args, message):
    args = dict(maps={"color": np.zeros((40, 40, 3), np.float32)})
    args.update(request_args)
    with pytest.raises(TextureInputError, match=message):
        run_texture_job(args.pop("maps"), **args)
    assert issubclass(TextureInputError, ValueError)


def test_progress_is_reported_and_cancel_propagates():
    seen = []

    class Cancelled(Exception):
        pass

    def progress(fraction, stage):
        seen.append(fraction)
        if len(seen) == 3:
            raise Cancelled()

    with pytest.raises(Cancelled):
        run_texture_job({"color": noise(40, seed=0)}, count=2, settings=FAST, progress=progress)
    assert len(seen) == 3 and all(0.0 <= f <= 1.0 for f in seen) and seen == sorted(seen)


def test_generator_is_exactly_periodic_and_seeded():
    torch.manual_seed(0)
    model = TextureGenerator(3, scales=3, width=4).eval()
    generator = torch.Generator().manual_seed(1)
    noises = model.noise(1, (16, 24), generator)
    with torch.no_grad():
        single = model(noises)
        doubled = model([n.repeat(1, 1, 2, 2) for n in noises])  # periodic noise
    torch.testing.assert_close(doubled, single.repeat(1, 1, 2, 2), rtol=1e-4, atol=1e-5)
    assert torch.equal(model.sample((20, 30), seed=5), model.sample((20, 30), seed=5))
    assert not torch.equal(model.sample((20, 30), seed=5), model.sample((20, 30), seed=6))


def test_float_maps_outside_0_1_keep_their_range():
    """Signed heights and HDR colour are mapped onto [0,1] for the synthesis and back, not cut."""
    from textures.synthesis.material import stack_maps, unstack_maps

    rock = stones(64, seed=1)
    height = ((rock[..., :1] - rock[..., :1].mean()) * 4.0).astype(np.float32)
    maps = {"height": height, "color": (rock * 6.0).astype(np.float32), "mask": rock[..., :1]}
    assert height.min() < -0.5 and height.max() > 1.0
    stacked, layout = stack_maps(maps)
    assert 0.0 <= float(stacked.min()) and float(stacked.max()) <= 1.0
    back = unstack_maps(stacked, layout)
    for name in maps:
        np.testing.assert_allclose(back[name], maps[name], atol=1e-5)
    assert np.array_equal(back["mask"], maps["mask"])  # [0,1] maps stay exactly as they were
    tile = run_texture_job(maps, kind="make_tileable", seed=0, settings=FAST).outputs[0]
    assert tile["height"].min() < -0.5 and tile["height"].max() > 1.0 and (tile["height"] == 0).mean() < 0.01
    assert tile["color"].max() > 3.0
