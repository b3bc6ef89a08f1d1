"""The natural-photo training set: preparation of the photographs (the download itself
needs the Debian archive, so it is replaced by a local package tree here)."""

import cv2
import numpy as np
import pytest

from superres.data import photos


def test_reduce_photo_averages_down_to_the_long_side_and_never_enlarges():
    rng = np.random.default_rng(0)
    large = rng.integers(0, 256, (1500, 3000, 3), dtype=np.uint8)
    reduced = photos.reduce_photo(large, 1000)
    assert reduced.shape == (500, 1000, 3) and reduced.dtype == np.uint8
    # area averaging: 3x3 blocks of noise average out (a point sampler would keep the spread)
    assert abs(reduced.mean() - large.mean()) < 0.5
    assert reduced.std() < large.std() / 2.5
    small = large[:400, :600]
    assert photos.reduce_photo(small, 1000) is small


def test_every_listed_photograph_has_an_author_and_an_open_licence():
    open_licences = {"CC0-1.0", "CC-BY-4.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0", "GPL-2+"}
    names = [inner.rsplit("/", 1)[1] for files in photos.PHOTOS.values() for inner in files]
    assert len(names) == len(set(names)) >= 20
    for files in photos.PHOTOS.values():
        for author, licence in files.values():
            assert author and licence in open_licences


def test_fetch_writes_reduced_pngs_and_their_sources(tmp_path, monkeypatch):
    package_trees = tmp_path / "packages"
    rng = np.random.default_rng(1)

    def fake_download(package, folder):
        root = package_trees / package
        for index, inner in enumerate(photos.PHOTOS[package]):
            path = root / inner
            path.parent.mkdir(parents=True, exist_ok=True)
            # one photograph per package too small to keep after the reduction
            size = (90, 120) if index == 0 else (400, 600)
            pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            if index != 1:  # and one file this release of the package no longer has
                cv2.imwrite(str(path), pixels)
        return root

    monkeypatch.setattr(photos, "_download", fake_download)
    monkeypatch.setattr(photos, "MIN_SHORT_SIDE", 128)
    out = tmp_path / "photos"
    written = photos.fetch(out, long_side=300)
    expected = sum(len(files) - 1 - (len(files) > 1) for files in photos.PHOTOS.values())
    assert len(written) == expected
    for path in written:
        image = cv2.imread(str(path))
        assert image.shape == (200, 300, 3)
    sources = (out / "SOURCES.txt").read_text().splitlines()
    assert sources[0].split("\t") == ["file", "package", "original", "author", "licence"]
    assert sorted(line.split("\t")[0] for line in sources[1:]) == sorted(p.name for p in written)


def test_download_needs_apt(monkeypatch, tmp_path):
    monkeypatch.setattr(photos.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get and dpkg-deb are needed"):
        photos._download("mate-backgrounds", tmp_path)


def test_a_failed_download_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setattr(photos.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(photos.subprocess, "run", lambda *a, **k: photos.subprocess.CompletedProcess(
        a[0], 100, "", "E: Unable to locate package mate-backgrounds"))
    with pytest.raises(RuntimeError, match="Unable to locate package.*apt-get update first"):
        photos._download("mate-backgrounds", tmp_path)
