"""``journal-tui train`` on the tiny Phi: the real CLI in a child process, plus in-process checks."""

from __future__ import annotations

import json
import math
import signal
import subprocess
from pathlib import Path

import pytest

from journal_tui.locations import Locations
from train_helpers import one_torch_thread, child_env, parse_events, run_train, train_cmd, write_dataset

LR = "3e-3"  # a tiny random model needs a larger step than Phi-2's 2e-4 to move in 30 steps


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    yield from one_torch_thread()


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_model_dir):
    """One 30-step run through the CLI, shared by the tests that inspect its results."""
    home = tmp_path_factory.mktemp("train-home")
    write_dataset(home)
    rc, events, stderr = run_train(home, "--model", str(tiny_model_dir), "--max-steps", "30",
                                   "--learning-rate", LR, "--eval-steps", "5", "--seed", "7")
    assert rc == 0, stderr + json.dumps(events[-3:])
    return home, events


def test_events_are_well_formed(trained):
    _, events = trained
    kinds = [e["event"] for e in events]
    assert kinds[0] == "warning"  # CPU: says LoRA without quantization is slow
    assert kinds[1] == "start" and kinds[-1] == "done"
    start = events[1]
    for key in ("run_id", "model", "quant", "device", "examples", "max_length", "total_steps", "trainable_params"):
        assert key in start
    assert start["quant"] == "none" and start["device"] == "cpu" and start["total_steps"] == 30
    assert 0 < start["trainable_params"] < start["all_params"]
    logs = [e for e in events if e["event"] == "log"]
    assert logs and logs[-1]["step"] == 30
    for e in logs:
        for key in ("step", "epoch", "loss", "learning_rate", "grad_norm", "tokens_per_s", "peak_mem_gib", "eta_s"):
            assert isinstance(e[key], (int, float)), key
    evals = [e for e in events if e["event"] == "eval"]
    assert [e["step"] for e in evals] == [0, 5, 10, 15, 20, 25, 30]  # step 0 = the base model
    assert any(e["event"] == "checkpoint" for e in events)


def test_loss_falls_over_30_steps(trained):
    _, events = trained
    logs = [e["loss"] for e in events if e["event"] == "log"]
    evals = [e["eval_loss"] for e in events if e["event"] == "eval"]
    done = events[-1]
    assert sum(logs[-5:]) / 5 < sum(logs[:5]) / 5 - 0.3
    assert done["base_eval_loss"] == evals[0]
    assert done["best_eval_loss"] == min(evals) < evals[0] - 0.3


def test_adapter_and_manifest_written_and_latest_moved(trained, tiny_model_dir):
    home, events = trained
    done = events[-1]
    path = Path(done["adapter_path"])
    assert path == home / "adapters" / done["run_id"]
    for name in ("adapter_config.json", "adapter_model.safetensors", "manifest.json", "events.jsonl"):
        assert (path / name).is_file(), name
    assert (home / "adapters" / "latest").read_text().strip() == done["run_id"]
    m = json.loads((path / "manifest.json").read_text())
    assert m["base_model"]["name"] == str(Path(tiny_model_dir).resolve())
    assert m["base_model"]["weights_fingerprint"] and m["base_model"]["arch"]["model_type"] == "phi"
    assert m["quant"] == "none" and m["lora"]["r"] == 32 and m["lora"]["alpha"] == 64
    assert m["lora"]["target_modules"] == ["q_proj", "k_proj", "v_proj", "dense", "fc1", "fc2"]
    assert m["template_version"] == "jt-1" and len(m["dataset"]["sha256"]["train.jsonl"]) == 64
    assert m["metrics"]["best_eval_loss"] == done["best_eval_loss"] and m["seed"] == 7
    assert m["max_length"] == events[1]["max_length"] and m["versions"]["peft"]
    tee = [json.loads(line) for line in (path / "events.jsonl").read_text().splitlines()]
    assert [e["event"] for e in tee] == [e["event"] for e in events]
    assert not list((home / "adapters").glob(".*"))  # no staging folder left
    assert (path / "manifest.json").stat().st_mode & 0o777 == 0o600


def test_adapter_reloads_and_generates(trained, tiny_model_dir):
    import torch

    from journal_tui.training import adapters, models

    home, events = trained
    locs = Locations.resolve(home)
    info = adapters.resolve_adapter(locs, "latest")
    assert info.run_id == events[-1]["run_id"]
    source = models.resolve_model_source(str(tiny_model_dir), locs)
    adapters.check_adapter_matches(info, source)
    tok = models.load_tokenizer(source)
    base = models.load_base_model(source, quant="none", device="cpu")
    prompt = tok("<<journal 2026-11-29 Sunday>>\n<<notes>>\n(no notes)\n<<entry>>\n", return_tensors="pt")
    with torch.no_grad():
        base_logits = base(**prompt).logits
    model = adapters.load_adapter(base, info)
    with torch.no_grad():
        tuned_logits = model(**prompt).logits
        out = model.generate(**prompt, max_new_tokens=8, do_sample=False, pad_token_id=tok.eos_token_id)
    assert not torch.allclose(base_logits, tuned_logits)  # the adapter is really applied
    assert out.shape[1] > prompt["input_ids"].shape[1]


def test_adapter_for_other_weights_is_refused(trained, tmp_path):
    from tiny_model import build_tiny_model

    from journal_tui.training import adapters, models
    from journal_tui.training.errors import AdapterMismatchError

    home, _ = trained
    locs = Locations.resolve(home)
    info = adapters.resolve_adapter(locs, "latest")
    other = models.resolve_model_source(str(build_tiny_model(tmp_path / "other", seed=1)), locs)
    with pytest.raises(AdapterMismatchError, match="other weights"):
        adapters.check_adapter_matches(info, other)
    odd = adapters.AdapterInfo(info.run_id, info.path, {**info.manifest, "template_version": "jt-99"})
    same = models.resolve_model_source(str(info.manifest["base_model"]["name"]), locs)
    with pytest.raises(AdapterMismatchError, match="jt-99"):
        adapters.check_adapter_matches(odd, same)


def test_target_mismatch_is_an_error(tiny_model_dir, tmp_path):
    from journal_tui.training import models
    from journal_tui.training.errors import LoraTargetError
    from journal_tui.training.lora import apply_lora

    src = models.ModelSource("tiny", "folder", tiny_model_dir, "tiny", config={"model_type": "phi"})
    model = models.load_base_model(src, quant="none", device="cpu")
    with pytest.raises(LoraTargetError) as e:
        apply_lora(model, quant="none", r=4, alpha=8, targets=["q_proj", "o_proj", "gate_proj"])
    assert "['o_proj', 'gate_proj']" in e.value.message and "fc1" in e.value.hint
    # and through the CLI: an error event, non-zero exit, nothing but JSON on stdout
    write_dataset(tmp_path, n_train=8, n_eval=2)
    rc, events, _ = run_train(tmp_path, "--model", str(tiny_model_dir), "--max-steps", "2",
                              "--target-modules", "q_proj,o_proj")
    assert rc == 1 and events[-1]["event"] == "error" and events[-1]["kind"] == "bad_targets"
    assert not (tmp_path / "adapters" / "latest").exists()


def test_missing_dataset_gives_error_event_and_nonzero_exit(tmp_path, tiny_model_dir):
    rc, events, _ = run_train(tmp_path, "--model", str(tiny_model_dir), "--max-steps", "2")
    assert rc == 1
    err = events[-1]
    assert err["event"] == "error" and err["kind"] == "bad_dataset"
    assert "train.jsonl" in err["message"] and "dataset build" in err["hint"]


@pytest.mark.parametrize("case, kind", [("bad-model", "model_missing"), ("nf4-on-cpu", "no_gpu")])
def test_bad_inputs_in_process(case, kind, tmp_path, tiny_model_dir, capfd):
    """The same CLI entry point in-process (faster): stdout holds only the JSON events."""
    from journal_tui.cli import main

    write_dataset(tmp_path, n_train=4, n_eval=1)
    model, extra = str(tiny_model_dir), []
    if case == "bad-model":
        model = str(tmp_path / "no-such-model")
    else:
        extra = ["--quant", "nf4"]
    rc = main(["--home", str(tmp_path), "train", "--events", "jsonl", "--model", model, "--max-steps", "2", *extra])
    assert rc == 1
    events = parse_events(capfd.readouterr().out)
    err = events[-1]
    assert err["event"] == "error" and err["kind"] == kind and err["message"] and err["hint"]
    assert len(list((tmp_path / "logs").glob("train-*.log"))) == 1


def test_missing_hub_model_says_how_to_get_it(tmp_path):
    from journal_tui.training.errors import ModelMissingError
    from journal_tui.training.models import resolve_model_source

    with pytest.raises(ModelMissingError) as e:
        resolve_model_source("microsoft/phi-2", Locations.resolve(tmp_path), allow_downloads=False)
    assert "hf download microsoft/phi-2" in e.value.hint and "--model" in e.value.hint


def test_cancel_keeps_latest_then_resume_continues_step_count(trained, tiny_model_dir):
    home, first = trained
    latest_before = (home / "adapters" / "latest").read_text()
    args = ["--model", str(tiny_model_dir), "--max-steps", "60", "--learning-rate", LR, "--eval-steps", "1000"]
    proc = subprocess.Popen(train_cmd(home, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env())
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if json.loads(line)["event"] == "log":
            proc.send_signal(signal.SIGTERM)
            break
    out, _ = proc.communicate(timeout=120)
    events = parse_events("".join(lines) + out)
    assert proc.returncode == 3
    err = events[-1]
    assert err["event"] == "error" and err["kind"] == "cancelled" and "--resume" in err["hint"]
    ckpt = next(e for e in events if e["event"] == "checkpoint" and e.get("reason") == "cancelled")
    stopped_at = ckpt["step"]
    assert 1 <= stopped_at < 60
    run_id = events[1]["run_id"]
    assert (home / "adapters" / "latest").read_text() == latest_before
    assert not (home / "adapters" / run_id).exists()
    assert (home / "runs" / run_id / "state.json").exists()

    rc, resumed, stderr = run_train(home, "--resume", run_id)
    assert rc == 0, stderr
    start = next(e for e in resumed if e["event"] == "start")
    assert start["run_id"] == run_id and start["resumed"] and start["start_step"] == stopped_at
    assert start["total_steps"] == 60
    logs = [e for e in resumed if e["event"] == "log"]
    assert logs[0]["step"] == stopped_at + 1 and logs[-1]["step"] == 60
    assert not any(e["event"] == "eval" and e["step"] == 0 for e in resumed)  # base eval carried over
    done = resumed[-1]
    assert done["event"] == "done" and done["base_eval_loss"] == first[-1]["base_eval_loss"]
    assert (home / "adapters" / "latest").read_text().strip() == run_id
    assert not (home / "runs" / run_id / "trainer_state.pt").exists()  # checkpoint cleared once promoted


def test_nan_loss_aborts(tiny_model_dir):
    import torch

    from journal_tui.training import data, models
    from journal_tui.training.errors import NanLossError
    from journal_tui.training.lora import apply_lora
    from journal_tui.training.step import Stepper

    src = models.ModelSource("tiny", "folder", tiny_model_dir, "tiny", config={"model_type": "phi"})
    tok = models.load_tokenizer(src)
    model, *_ = apply_lora(models.load_base_model(src, quant="none", device="cpu"), quant="none", r=4, alpha=8)
    with torch.no_grad():
        next(p for n, p in model.named_parameters() if "lora_B" in n and "fc2" in n).fill_(float("nan"))
    ex = data.tokenize_rows([{"input": "a", "output": "Lunch with Sam."}], tok)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    before = [p.detach().clone() for p in model.parameters() if p.requires_grad]
    with pytest.raises(NanLossError):
        Stepper(model, opt, sched, ex, tok.pad_token_id, "cpu").step([[0]])
    after = [p for p in model.parameters() if p.requires_grad]
    assert all(torch.allclose(a, b, equal_nan=True) for a, b in zip(before, after))  # no optimizer step taken


def test_chunked_loss_equals_full_loss(tiny_model_dir):
    import torch

    from journal_tui.training import data, models
    from journal_tui.training.step import chunked_lm_loss

    src = models.ModelSource("tiny", "folder", tiny_model_dir, "tiny", config={"model_type": "phi"})
    tok = models.load_tokenizer(src)
    model = models.load_base_model(src, quant="none", device="cpu")
    rows = [{"input": "<<journal>>\n", "output": t} for t in ("Lunch with Sam.", "Read two chapters before bed.")]
    batch = data.collate(data.tokenize_rows(rows, tok), tok.pad_token_id)
    with torch.no_grad():
        full = model(**batch).loss  # HF mean over labelled tokens
        total, n = chunked_lm_loss(model, batch, chunk=3)
    assert n == int((batch["labels"][:, 1:] != -100).sum())
    assert math.isclose(float(total) / n, float(full), rel_tol=1e-5)


def test_fused_gelu_is_the_same_function(tiny_model_dir):
    import torch

    from journal_tui.training import models
    from journal_tui.training.lora import fuse_activations

    src = models.ModelSource("tiny", "folder", tiny_model_dir, "tiny", config={"model_type": "phi"})
    model = models.load_base_model(src, quant="none", device="cpu")
    ids = torch.tensor([[5, 17, 99, 3, 250, 41]])
    with torch.no_grad():
        before = model(input_ids=ids).logits
        assert fuse_activations(model) == 2  # one per layer of the 2-layer tiny Phi
        after = model(input_ids=ids).logits
    assert not any(type(m).__name__ == "NewGELUActivation" for m in model.modules())
    torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-5)


def test_cuda_oom_halves_micro_batches_and_retries(tiny_model_dir, monkeypatch):
    import torch

    from journal_tui.training import data, models
    from journal_tui.training.lora import apply_lora
    from journal_tui.training.step import Stepper

    src = models.ModelSource("tiny", "folder", tiny_model_dir, "tiny", config={"model_type": "phi"})
    tok = models.load_tokenizer(src)
    model, *_ = apply_lora(models.load_base_model(src, quant="none", device="cpu"), quant="none", r=4, alpha=8)
    rows = [{"input": "<<journal>>\n", "output": t} for t in ("Lunch with Sam.", "Read two chapters.", "Ran.", "Slept.")]
    ex = data.tokenize_rows(rows, tok)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    warnings, seen = [], []
    stepper = Stepper(model, opt, sched, ex, tok.pad_token_id, "cpu", on_warning=warnings.append)
    real_step = stepper._step

    def flaky(batches):
        seen.append([len(b) for b in batches])
        if max(len(b) for b in batches) > 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_step(batches)

    monkeypatch.setattr(stepper, "_step", flaky)
    res = stepper.step([[0, 1, 2, 3]])
    assert seen == [[4], [2, 2], [1, 1, 1, 1]] and stepper.split == 4
    assert len(warnings) == 2 and "halved" in warnings[0] and "accumulation doubled" in warnings[0]
    assert math.isfinite(res.loss) and res.label_tokens == sum(e.label_count for e in ex)


def test_cli_flags_override_config(tmp_path):
    from journal_tui.config import settings
    from journal_tui.training.errors import BadSettingError
    from journal_tui.training.loop import TrainSettings

    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text('[model]\nbase = "my/model"\n[train]\nmax_steps = 7\nlora_r = 8\nlearning_rate = 1e-4\n')
    cfg = settings(cfg_file)
    s = TrainSettings.from_config(cfg, {"lora_r": 16, "epochs": None, "max_steps": None})
    assert (s.model, s.max_steps, s.lora_r, s.learning_rate) == ("my/model", 7, 16, 1e-4)
    s = TrainSettings.from_config(cfg, {"epochs": 2.0, "max_steps": None})
    assert s.max_steps is None and s.epochs == 2.0  # --epochs on the command line beats max_steps from config
    with pytest.raises(BadSettingError, match="learning_rate"):
        TrainSettings.from_config(cfg, {"learning_rate": 5.0})
