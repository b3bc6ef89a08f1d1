import json

import numpy as np
import pytest

from superres.data.corpus import build_corpus
from superres.upscale import SuperResInputError


def test_train_command_runs_both_stages_and_exports(tmp_path):
    """Plumbing smoke test (two steps per stage on tiny patches), not training."""
    from superres import train
    from superres.training.checkpoints import generator_from_state, load_weights_file

    out, work = tmp_path / "weights", tmp_path / "run"
    train.main(["--scale", "2", "--psnr-steps", "2", "--gan-steps", "2", "--corpus-count", "3",
                "--corpus-size", "48", "--lr-patch", "8", "--batch", "2", "--features", "8", "--growth", "4",
                "--blocks", "1", "--out-dir", str(out), "--work-dir", str(work)])
    records = [json.loads(line) for line in (work / "log.jsonl").read_text().splitlines()]
    assert {r["stage"] for r in records} == {"psnr", "gan"}
    assert all("val_psnr" in r for r in records)
    assert any("loss_gan" in r for r in records)
    for kind in ("psnr", "gan"):
        model = generator_from_state(load_weights_file(out / f"x2_{kind}.pt"))
        assert model.scale == 2
    assert (work / "gan_checkpoint.pt").exists()


def test_finetune_writes_a_model_usable_for_upscaling(tmp_path):
    from superres.training.finetune import finetune
    from superres.upscale import upscale

    images = [im for im in build_corpus(2, 80)]
    calls = []
    path = tmp_path / "project_x2.pt"
    model, report = finetune(images, scale=2, steps=2, batch=2, out_path=path,
                             progress=lambda f, s: calls.append(f))
    assert report["steps"] == 2 and report["images"] == 2 and path.exists()
    assert np.isfinite(report["psnr_after"])
    low = images[0][:16, :16]
    out, info = upscale(low, scale=2, model_path=path, sharpness=0.5)
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    assert info["model"] == str(path)


def test_finetune_rejects_too_few_images():
    from superres.training.finetune import finetune

    with pytest.raises(SuperResInputError, match="at least"):
        finetune([np.zeros((200, 200, 3), np.uint8)], scale=4, steps=1)
    with pytest.raises(SuperResInputError):
        finetune([np.zeros((40, 40, 3), np.uint8)] * 3, scale=4, steps=1)
