import numpy as np
import pytest
import torch

from superres.nets.generator import RRDBNet
from superres.upscale import SuperResInputError, looks_tileable, upscale


@pytest.fixture(scope="module")
def tiny_generator():
    # A small random-weight network: tiling, wrap and format handling do not
    # depend on trained weights, and this keeps the tests fast.
    torch.manual_seed(0)
    generator = RRDBNet(2, features=8, growth=4, blocks=1).eval()
    with torch.no_grad():
        generator.reconstruct[-1].weight.mul_(20)  # make the residual visible
    return generator


def _texture(size=48, seed=5, kind="rendered"):
    from superres.data.procedural import make_texture

    return make_texture(seed, size, kind)[1]


def test_tiled_equals_untiled(tiny_generator):
    image = _texture(64)
    # The network's output as it is (back-projection, a global step, is tested below).
    tiled, _ = upscale(image, scale=2, generator=tiny_generator, tile=48, overlap=20, back_projection=False)
    # one tile covering the padded image: the same padding, no blending
    whole, _ = upscale(image, scale=2, generator=tiny_generator, tile=200, overlap=20, back_projection=False)
    assert tiled.shape == (128, 128, 3) and tiled.dtype == np.float32
    assert np.abs(tiled - whole).max() < 2e-3
    with torch.no_grad():
        direct = tiny_generator(torch.from_numpy(image).permute(2, 0, 1)[None]).clamp(0, 1)[0].permute(1, 2, 0).numpy()
    inner = (slice(40, -40), slice(40, -40))  # away from the border, where padding differs
    assert np.abs(tiled[inner] - direct[inner]).max() < 2e-3


def test_wrap_mode_commutes_with_circular_shift(tiny_generator):
    """With wrap the result of a rolled texture is the rolled result: no edge is special,
    so the upscaled texture tiles seamlessly."""
    image = _texture(32, kind="noise")
    shift = 9
    out, _ = upscale(image, scale=2, generator=tiny_generator, wrap=True, tile=40, overlap=16)
    rolled_out, _ = upscale(np.roll(image, (shift, shift), (0, 1)), scale=2, generator=tiny_generator,
                            wrap=True, tile=40, overlap=16)
    assert np.abs(np.roll(out, (2 * shift, 2 * shift), (0, 1)) - rolled_out).max() < 2e-3
    no_wrap, _ = upscale(image, scale=2, generator=tiny_generator, wrap=False, tile=40, overlap=16)
    seam = lambda x: np.abs(x[0] - x[-1]).mean() + np.abs(x[:, 0] - x[:, -1]).mean()
    assert seam(out) <= seam(no_wrap)


@pytest.mark.parametrize("wrap", [False, True])
def test_back_projection_makes_the_output_agree_with_the_input(tiny_generator, wrap):
    from imaging.resize import resize

    image = _texture(48, kind="noise")
    down = lambda out: resize(out, image.shape[:2], filter="bicubic", antialias=True, wrap=wrap)
    plain, report = upscale(image, scale=2, generator=tiny_generator, wrap=wrap, back_projection=False)
    assert not report["back_projection"]
    projected, report = upscale(image, scale=2, generator=tiny_generator, wrap=wrap)
    assert report["back_projection"]
    before, after = np.abs(down(plain) - image).mean(), np.abs(down(projected) - image).mean()
    assert after < 0.3 * before, (before, after)
    assert np.abs(projected - plain).mean() < before  # a correction, not a new image


def test_rgba_uint8_keeps_alpha_and_format(tiny_generator):
    rgb = (_texture(24) * 255).astype(np.uint8)
    alpha = np.zeros((24, 24, 1), np.uint8)
    alpha[6:18, 6:18] = 255
    out, report = upscale(np.concatenate([rgb, alpha], 2), scale=2, generator=tiny_generator, tile=24, overlap=8)
    assert out.shape == (48, 48, 4) and out.dtype == np.uint8
    assert report["alpha_upscaled"]
    assert out[20:28, 20:28, 3].min() > 200 and out[:6, :6, 3].max() < 50
    opaque = np.concatenate([rgb, np.full((24, 24, 1), 255, np.uint8)], 2)
    out_opaque, _ = upscale(opaque, scale=2, generator=tiny_generator)
    assert (out_opaque[..., 3] == 255).all()


def test_16_bit_and_grey_are_preserved(tiny_generator):
    ramp = np.linspace(0, 65535, 32 * 32).reshape(32, 32).astype(np.uint16)
    out, report = upscale(ramp, scale=2, generator=tiny_generator)
    assert out.shape == (64, 64) and out.dtype == np.uint16 and report["bit_depth"] == "16"
    assert len(np.unique(out)) > 256  # finer than 8-bit levels survive
    grey_alpha = np.stack([ramp, np.full_like(ramp, 30000)], -1)
    out2, _ = upscale(grey_alpha, scale=2, generator=tiny_generator)
    assert out2.shape == (64, 64, 2) and (out2[..., 1] == 30000).all()


def test_normal_map_comes_out_unit_length(tiny_generator):
    yy, xx = np.mgrid[0:32, 0:32] / 32.0
    normals = np.stack([np.sin(6 * xx) * 0.5, np.cos(5 * yy) * 0.5, np.ones_like(xx)], -1)
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    encoded = (normals * 0.5 + 0.5).astype(np.float32)
    out, _ = upscale(encoded, scale=2, role="normal", generator=tiny_generator)
    lengths = np.linalg.norm(out * 2 - 1, axis=-1)
    assert np.abs(lengths - 1).max() < 1e-4


def test_linear_float_hdr_keeps_range(tiny_generator):
    hdr = _texture(16) * 4.0
    out, _ = upscale(hdr, scale=2, colour_space="linear", generator=tiny_generator)
    assert out.dtype == np.float32 and out.max() > 2.0


def test_bad_requests_raise_user_errors(tiny_generator):
    image = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(SuperResInputError, match="scale"):
        upscale(image, scale=3)
    with pytest.raises(SuperResInputError, match="limit"):
        upscale(image, scale=2, max_output_pixels=100)
    with pytest.raises(SuperResInputError):
        upscale(np.zeros((8, 8, 3), np.int32), scale=2, generator=tiny_generator)
    with pytest.raises(SuperResInputError, match="normal"):
        upscale(np.zeros((8, 8), np.uint8), scale=2, role="normal", generator=tiny_generator)


def test_progress_reports_tiles_and_cancel_propagates(tiny_generator):
    image = _texture(32)
    seen = []
    upscale(image, scale=2, generator=tiny_generator, tile=24, overlap=4, progress=lambda f, s: seen.append((f, s)))
    assert len(seen) >= 4 and seen[-1][0] == 1.0
    assert all(0 <= f <= 1 for f, _ in seen)
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)

    class Cancelled(Exception):
        pass

    def cancel(fraction, stage):
        raise Cancelled()

    with pytest.raises(Cancelled):
        upscale(image, scale=2, generator=tiny_generator, tile=24, overlap=4, progress=cancel)


def test_looks_tileable():
    tileable = _texture(64, kind="cells")  # cells wrap by construction
    assert looks_tileable(tileable)
    ramp = np.tile(np.linspace(0, 1, 64, dtype=np.float32)[None, :, None], (64, 1, 3))
    assert not looks_tileable(ramp)


def test_self_ensemble_makes_the_network_rotation_equivariant(tiny_generator):
    """Averaging over the 8 rotations/flips of the input (and undoing each on the output)
    gives a result that rotates with the input; a single random network does not."""
    image = _texture(40, seed=9)
    turned = np.ascontiguousarray(np.rot90(image))
    plain, _ = upscale(image, scale=2, generator=tiny_generator, tile=200, overlap=20)
    plain_turned, _ = upscale(turned, scale=2, generator=tiny_generator, tile=200, overlap=20)
    assert np.abs(np.rot90(plain) - plain_turned).max() > 1e-2
    both, report = upscale(image, scale=2, generator=tiny_generator, tile=200, overlap=20, ensemble=True)
    both_turned, _ = upscale(turned, scale=2, generator=tiny_generator, tile=200, overlap=20, ensemble=True)
    assert report["ensemble"] is True
    assert np.abs(np.rot90(both) - both_turned).max() < 1e-4
    assert np.abs(both - plain).mean() > 1e-4  # it changes the result


def test_signed_float_data_keeps_its_range_and_sign(tiny_generator):
    """A displacement EXR in [-1,1] is mapped onto [0,1] for the network and back: the same
    numbers as upscaling the map shifted into [0,1] and shifting back, nothing cut at 0."""
    height = _texture(24, kind="noise")[..., 0] * 2.0 - 1.0
    height[0, 0], height[0, 1] = -1.0, 1.0  # the range is exactly [-1, 1]
    out, _ = upscale(height, scale=2, role="linear", colour_space="linear", generator=tiny_generator)
    shifted, _ = upscale((height + 1.0) / 2.0, scale=2, role="linear", colour_space="linear",
                         generator=tiny_generator)
    assert out.shape == (48, 48) and out.min() < -0.5 and (out == 0).mean() < 0.01
    np.testing.assert_allclose(out, shifted * 2.0 - 1.0, atol=1e-5)


@pytest.mark.parametrize("dtype, channels, wrap", [(np.uint8, 4, False), (np.uint16, 4, True), (np.uint8, 2, False)])
def test_colour_hidden_under_transparent_pixels_does_not_bleed(tiny_generator, dtype, channels, wrap):
    """Colour is upscaled premultiplied by alpha: what fully transparent pixels hold (a keying
    green, black) changes nothing where the result is visible."""
    top = np.iinfo(dtype).max
    yy, xx = np.mgrid[0:24, 0:24]
    strand = np.abs(xx - 0.4 * yy - 6) < 1.2  # a thin opaque strand on a transparent ground
    results = []
    for hidden in (0, top):
        image = np.full((24, 24, channels), hidden, dtype)
        image[..., -1] = 0
        image[strand] = [top // 2] * (channels - 1) + [top]
        out, report = upscale(image, scale=2, generator=tiny_generator, wrap=wrap)
        assert out.dtype == dtype and out.shape == (48, 48, channels) and report["alpha_upscaled"]
        results.append(out.astype(np.float64) / top)
    visible = results[0][..., -1] > 0.05
    assert visible.any() and np.array_equal(results[0][..., -1], results[1][..., -1])
    assert np.abs(results[0][..., :-1] - results[1][..., :-1])[visible].max() <= 1.0 / 255


def test_transparent_green_leaves_no_fringe_on_thin_strands():
    """The shipped x2 model on thin opaque strands over transparent green: the visible pixels
    keep the strands' colour, with no green tint (straight upscaling of the colour, alpha
    apart, tints them by up to 104/255 more green than red and blue; here ~10)."""
    from superres.upscale import load_generator

    yy, xx = np.mgrid[0:24, 0:24]
    image = np.zeros((24, 24, 4), np.uint8)
    image[..., 1] = 255
    image[np.abs(xx - 0.4 * yy - 6) < 1.0] = (180, 120, 60, 255)
    out, _ = upscale(image, scale=2, generator=load_generator(2))
    visible = out[..., 3] > 64
    difference = out[..., :3][visible].astype(float) - (180, 120, 60)
    green_tint = difference[:, 1] - (difference[:, 0] + difference[:, 2]) / 2
    error = np.abs(difference).max(axis=1)
    # The strands are 2 px wide: their edges are partly transparent and a little darker
    # (up to ~50/255 in one channel), which is not the fringe this test is about.
    assert visible.sum() > 100 and green_tint.max() < 30 and error.mean() < 15 and error.max() < 70


def test_data_maps_keep_their_channels_apart(tiny_generator):
    """A data map's 4th channel is often data (smoothness, height): not used as coverage."""
    rgb = _texture(24)
    mask = np.zeros((24, 24, 1), np.float32)
    mask[:, :12] = 1.0
    out, _ = upscale(np.concatenate([rgb, mask], 2), scale=2, role="linear", generator=tiny_generator)
    alone, _ = upscale(rgb, scale=2, role="linear", generator=tiny_generator)
    np.testing.assert_array_equal(out[..., :3], alone)


@pytest.mark.parametrize("sharpness", [5, -0.1, float("nan"), float("inf")])
def test_sharpness_is_checked_with_a_given_generator_too(tiny_generator, sharpness):
    with pytest.raises(SuperResInputError, match="sharpness"):
        upscale(_texture(16), scale=2, sharpness=sharpness, generator=tiny_generator)


def test_bfloat16_precision_stays_within_a_fraction_of_an_8_bit_step(tiny_generator):
    image = (_texture(48) * 255 + 0.5).astype(np.uint8)
    exact, exact_report = upscale(image, scale=2, generator=tiny_generator, precision="fp32")
    fast, fast_report = upscale(image, scale=2, generator=tiny_generator, precision="bf16")
    assert (exact_report["precision"], fast_report["precision"]) == ("fp32", "bf16")
    difference = fast.astype(np.float32) - exact.astype(np.float32)
    assert np.sqrt(np.mean(difference**2)) < 0.5  # 8-bit levels: mostly the same rounding
    assert np.abs(difference).max() <= 4
    # "auto" never takes bfloat16 for 16-bit or float images, whose precision it would waste
    _, report16 = upscale(image.astype(np.uint16) * 257, scale=2, generator=tiny_generator)
    _, report_float = upscale(image.astype(np.float32) / 255, scale=2, generator=tiny_generator)
    assert report16["precision"] == report_float["precision"] == "fp32"
    _, report8 = upscale(image, scale=2, generator=tiny_generator)
    from superres.upscale import fast_bf16

    assert report8["precision"] == ("bf16" if fast_bf16("cpu") else "fp32")
    with pytest.raises(SuperResInputError, match="precision"):
        upscale(image, scale=2, generator=tiny_generator, precision="fp16")
