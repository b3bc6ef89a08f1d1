import numpy as np

from superres.data.corpus import HELDOUT_KINDS, HELDOUT_SEED, build_corpus, heldout_set
from superres.data.degrade import bicubic_downscale, degrade
from superres.data.pairs import PairSampler
from superres.data.procedural import GENERATORS, make_texture


def test_every_generator_is_deterministic_and_in_range():
    for kind in GENERATORS:
        _, first = make_texture(3, 64, kind)
        _, again = make_texture(3, 64, kind)
        _, other = make_texture(4, 64, kind)
        assert first.shape == (64, 64, 3) and first.dtype == np.float32
        assert np.array_equal(first, again)
        assert not np.array_equal(first, other)
        assert first.min() >= 0 and first.max() <= 1
        assert first.std() > 0.01  # not a flat image


def test_corpus_rebuilds_identically_and_heldout_is_separate():
    a, b = build_corpus(3, 48), build_corpus(3, 48)
    assert all(np.array_equal(x, y) and x.dtype == np.uint8 for x, y in zip(a, b))
    names = [name for name, _ in heldout_set(32)]
    # One or two per benchmark kind, the same ten whatever training-only kinds exist.
    assert {name.rsplit("_", 1)[0] for name in names} == set(HELDOUT_KINDS) and len(names) == 10
    assert set(HELDOUT_KINDS) < set(GENERATORS)
    assert all(int(name.rsplit("_", 1)[1]) >= HELDOUT_SEED for name in names)


def test_degrade_shapes_and_clean_path_is_bicubic():
    hr = make_texture(1, 64)[1]
    rng = np.random.default_rng(0)
    for _ in range(8):
        low = degrade(hr, 4, rng)
        assert low.shape == (16, 16, 3) and low.dtype == np.float32
        assert 0 <= low.min() and low.max() <= 1
    clean = degrade(hr, 2, np.random.default_rng(0), clean_fraction=1.0)
    assert np.allclose(clean, bicubic_downscale(hr, 2))
    noisy = [degrade(hr, 2, np.random.default_rng(s), clean_fraction=0.0) for s in range(6)]
    assert any(np.abs(n - clean).mean() > 1e-3 for n in noisy)



def test_some_degraded_pairs_are_dxt1_block_compressed():
    """Old game textures were shipped as DXT1: 4x4 blocks of at most four colours."""
    hr = make_texture(3, 64)[1]

    def most_colours_in_a_block(low):
        codes = np.round(low * 255).astype(np.uint8).reshape(8, 4, 8, 4, 3).transpose(0, 2, 1, 3, 4).reshape(64, 16, 3)
        return max(len(np.unique(block, axis=0)) for block in codes)

    counts = [most_colours_in_a_block(degrade(hr, 2, np.random.default_rng(s), clean_fraction=0.0)) for s in range(40)]
    assert 3 <= sum(c <= 4 for c in counts) <= 15, counts  # ~20 % of the degraded pairs
    assert max(counts) > 4


def test_pair_sampler_batches():
    images = build_corpus(2, 64)
    sampler = PairSampler(images, scale=2, lr_patch=12, seed=1)
    low, high = sampler.batch(3)
    assert low.shape == (3, 3, 12, 12) and high.shape == (3, 3, 24, 24)
    assert low.dtype == high.dtype and 0 <= float(high.min()) and float(high.max()) <= 1
