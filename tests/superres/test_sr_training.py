import json

import numpy as np
import pytest

from superres.data.corpus import build_corpus
from superres.nets.generator import RRDBNet
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


def test_train_command_grows_a_model_in_bf16_and_can_keep_the_last_step(tmp_path):
    """--init with more --blocks grows the model; --psnr-keep last exports the last step's
    weights, not the best validation's; --bf16 and --warmup-steps run (plumbing, 3 steps)."""
    import torch

    from superres import train
    from superres.training.checkpoints import export_weights, load_weights_file

    torch.manual_seed(0)
    init = tmp_path / "init.pt"
    export_weights(RRDBNet(2, features=8, growth=4, blocks=1), init)
    out, work = tmp_path / "weights", tmp_path / "run"
    train.main(["--scale", "2", "--init", str(init), "--blocks", "2", "--psnr-steps", "3", "--psnr-keep", "last",
                "--bf16", "--warmup-steps", "2", "--corpus-count", "3", "--corpus-size", "48", "--lr-patch", "8",
                "--batch", "2", "--real-repeat", "0", "--out-dir", str(out), "--work-dir", str(work)])
    payload = load_weights_file(out / "x2_psnr.pt")
    assert payload["config"]["blocks"] == 2
    assert payload["meta"]["init"]["deepened_from_blocks"] == 1
    assert payload["meta"]["steps"] == 3 and payload["meta"]["step"] == 3 and "selected_step" not in payload["meta"]


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


def test_a_project_model_of_another_shape_cannot_borrow_the_shipped_sharpening(tmp_path):
    import torch

    from superres.training.checkpoints import export_weights
    from superres.upscale import load_generator, upscale

    shipped = load_generator(2, 0.0, source="degraded")
    other = RRDBNet(**{**shipped.config, "blocks": shipped.config["blocks"] + 1})
    path = tmp_path / "old_project_x2.pt"
    export_weights(other, path)
    low = np.full((12, 12, 3), 128, np.uint8)
    out, _ = upscale(low, scale=2, model_path=path, sharpness=0.0)  # its own weights: fine
    assert out.shape == (24, 24, 3)
    with pytest.raises(SuperResInputError, match="fine-tune again"):
        upscale(low, scale=2, model_path=path, sharpness=0.5)
    # with its own GAN weights it needs nothing of the shipped model
    payload = torch.load(path, weights_only=True)
    payload["gan_state_dict"] = payload["state_dict"]
    torch.save(payload, path)
    assert upscale(low, scale=2, model_path=path, sharpness=0.5)[0].shape == (24, 24, 3)


def test_finetune_rejects_too_few_images():
    from superres.training.finetune import finetune

    with pytest.raises(SuperResInputError, match="at least"):
        finetune([np.zeros((200, 200, 3), np.uint8)], scale=4, steps=1)
    with pytest.raises(SuperResInputError):
        finetune([np.zeros((40, 40, 3), np.uint8)] * 3, scale=4, steps=1)


def test_stage_keeps_the_weights_of_its_best_validation(tmp_path):
    """With `select`, the generator ends holding the weights of the best-scoring validation,
    not necessarily those of the last step."""
    import torch

    from superres.data.pairs import PairSampler
    from superres.nets.generator import RRDBNet
    from superres.training.loop import Budget, StageConfig, train_stage, validate

    torch.manual_seed(0)
    images = build_corpus(3, 48)
    val = [(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 16, 16))]
    generator = RRDBNet(2, features=8, growth=4, blocks=1)
    start = {k: v.clone() for k, v in generator.state_dict().items()}
    start_psnr = validate(generator, val, "cpu")["val_psnr"]
    # Score every validation by "distance from step 0" in steps: step 0 always wins.
    record = train_stage("psnr", generator, PairSampler(images, 2, 8, seed=0), Budget(steps=4),
                         StageConfig(batch=2, lr=1e-2, val_every_s=0.0), val_pairs=val,
                         log_path=tmp_path / "log.jsonl", select=lambda r: r["step"])
    assert record["selected_step"] == 0 and record["steps"] == 4
    assert all(torch.equal(v, start[k]) for k, v in generator.state_dict().items())
    assert record["val_psnr"] == start_psnr
    # Latest wins: the weights after the last step are kept.
    record = train_stage("psnr", generator, PairSampler(images, 2, 8, seed=0), Budget(steps=3),
                         StageConfig(batch=2, lr=1e-2, val_every_s=0.0), val_pairs=val,
                         select=lambda r: -r["step"])
    assert record["selected_step"] == 3
    assert not all(torch.equal(v, start[k]) for k, v in generator.state_dict().items())


def test_train_command_takes_an_hr_folders_images_repeated_and_skips_its_notes(tmp_path, capsys, monkeypatch):
    """--hr-dir reads the folder's image files (not SOURCES.txt), --hr-repeat weights them,
    --val-holdout keeps the last ones out of training for validation."""
    import cv2

    from superres import train

    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.jpg", "c.png"):
        cv2.imwrite(str(folder / name), rng.integers(0, 256, (260, 270, 3), dtype=np.uint8))
    (folder / "SOURCES.txt").write_text("file\tlicence\na.png\tCC0-1.0\n")
    common = ["--scale", "2", "--psnr-steps", "1", "--corpus-count", "3", "--corpus-size", "48", "--lr-patch", "8",
              "--batch", "2", "--features", "8", "--growth", "4", "--blocks", "1", "--real-repeat", "0",
              "--hr-dir", str(folder), "--hr-repeat", "3", "--out-dir", str(tmp_path / "weights")]
    train.main(common + ["--work-dir", str(tmp_path / "run")])
    assert "corpus: 12 images" in capsys.readouterr().out
    validations = []
    real_validation_pairs = train.validation_pairs
    monkeypatch.setattr(train, "validation_pairs",
                        lambda *a, **k: validations.append(real_validation_pairs(*a, **k)) or validations[-1])
    train.main(common + ["--work-dir", str(tmp_path / "run2"), "--val-holdout", "1"])
    out = capsys.readouterr().out
    assert "corpus: 9 images" in out and "validation photos: c.png" in out
    assert len(validations[0]) == 7 and validations[0][-1][1].shape == (1, 3, 256, 256)
    with pytest.raises(SystemExit, match="leaves none of the 3"):
        train.main(common + ["--work-dir", str(tmp_path / "run3"), "--val-holdout", "3"])


def test_an_mse_only_stage_lowers_the_mse_it_is_given(tmp_path):
    """--psnr-mse-weight 1 --psnr-l1-weight 0 --psnr-hfen-weight 0: the stage's loss is the MSE
    alone (logged), and a few steps on a fixed batch lower it."""
    import json

    import torch

    from superres.data.pairs import PairSampler
    from superres.nets.generator import RRDBNet
    from superres.training.loop import Budget, StageConfig, train_stage

    class FixedBatch(PairSampler):
        def batch(self, n):
            return self._fixed

    torch.manual_seed(0)
    sampler = FixedBatch(build_corpus(3, 48), 2, 8, seed=0)
    sampler._fixed = PairSampler.batch(sampler, 4)
    generator = RRDBNet(2, features=8, growth=4, blocks=1)
    low, high = sampler._fixed
    before = torch.nn.functional.mse_loss(generator(low), high).item()
    train_stage("psnr", generator, sampler, Budget(steps=30),
                StageConfig(batch=4, lr=3e-3, l1_weight=0.0, hfen_weight=0.0, mse_weight=1.0, val_every_s=1e9),
                log_path=tmp_path / "log.jsonl")
    with torch.no_grad():
        after = torch.nn.functional.mse_loss(generator(low), high).item()
    assert after < 0.9 * before  # without the MSE term nothing would move: every other weight is 0
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert any("loss_mse" in record for record in logged)


def test_compressed_validation_pairs_are_the_jpeg_and_dxt1_versions():
    from imaging.io import dxt1_roundtrip, jpeg_roundtrip
    from superres.train import validation_pairs

    clean = validation_pairs(4, count=2, size=64)
    compressed = validation_pairs(4, count=2, size=64, compressed=True)
    assert len(compressed) == 2 * len(clean)
    for index, (low, high) in enumerate(clean):
        low8 = (low[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
        jpeg, dxt1 = compressed[2 * index], compressed[2 * index + 1]
        assert np.array_equal(jpeg[1], high) and np.array_equal(dxt1[1], high)
        assert np.array_equal((jpeg[0][0].permute(1, 2, 0).numpy() * 255).round(), jpeg_roundtrip(low8, 70))
        assert np.array_equal((dxt1[0][0].permute(1, 2, 0).numpy() * 255).round(), dxt1_roundtrip(low8))
