"""Training data: tokenizing, EOS labels, max_length, token-budget batches, memory plans."""

from __future__ import annotations

import json
import types

import pytest

from journal_tui.training import data, memory
from journal_tui.training.errors import BadDatasetError
from train_helpers import one_torch_thread, write_dataset


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    yield from one_torch_thread()


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from journal_tui.training.models import ModelSource, load_tokenizer

    return load_tokenizer(ModelSource("tiny", "folder", tiny_model_dir, "tiny"))


def test_eos_is_labelled_even_when_pad_is_eos(tokenizer, tmp_path):
    assert tokenizer.pad_token_id == tokenizer.eos_token_id  # the case that breaks LM collators
    write_dataset(tmp_path, n_train=6, n_eval=2)
    train, _ = data.load_rows(tmp_path / "datasets")
    examples = data.tokenize_rows(train, tokenizer)
    batch = data.collate(examples, tokenizer.pad_token_id)
    eos = tokenizer.eos_token_id
    labels, ids, mask = batch["labels"], batch["input_ids"], batch["attention_mask"]
    # one labelled EOS per example, at its last real position; padding (also eos ids) unlabelled
    assert int((labels == eos).sum()) == len(examples)
    for row, ex in enumerate(examples):
        n = len(ex)
        assert labels[row, n - 1] == eos and ids[row, n - 1] == eos
        assert (labels[row, : ex.prompt_len] == -100).all()
        assert (labels[row, n:] == -100).all() and (mask[row, n:] == 0).all()
        # labelled tokens decode back to the output text
        out = tokenizer.decode(labels[row, ex.prompt_len : n - 1].tolist())
        assert out == train[row]["output"]
    assert (ids == eos).sum() > len(examples)  # padding really is eos here


def test_prompt_and_output_are_tokenized_separately(tokenizer):
    row = {"input": "<<journal 2026-01-01 Thursday>>\n<<entry>>\n", "output": "Lunch with Sam."}
    (ex,) = data.tokenize_rows([row], tokenizer)
    assert ex.ids[: ex.prompt_len] == tokenizer(row["input"], add_special_tokens=False)["input_ids"]
    assert ex.ids[ex.prompt_len : -1] == tokenizer(row["output"], add_special_tokens=False)["input_ids"]


def test_max_length_is_p95_capped():
    lengths = list(range(1, 101))
    assert data.choose_max_length(lengths, None) == 95
    assert data.choose_max_length(lengths, 50) == 50


def test_fit_cuts_prompt_start_and_drops_long_outputs():
    keep = data.Example(list(range(10)) + [100, 101, 102], prompt_len=10)
    drop = data.Example([1, 2] + list(range(200, 210)), prompt_len=2)
    fits = data.Example([1, 2, 3], prompt_len=1)
    kept, stats = data.fit_to_length([keep, drop, fits], 6)
    assert stats == {"truncated": 1, "dropped": 1}
    assert kept[0].ids == [7, 8, 9, 100, 101, 102] and kept[0].prompt_len == 3
    assert kept[1] is fits


def test_length_grouped_batches_respect_budget_and_cover_everything():
    import random

    rng = random.Random(1)
    lengths = [rng.randint(20, 300) for _ in range(500)]
    batches = data.length_grouped_batches(lengths, 1024, seed=3)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(500))
    for b in batches:
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 1024
    assert batches == data.length_grouped_batches(lengths, 1024, seed=3)
    assert batches != data.length_grouped_batches(lengths, 1024, seed=4)
    grouped = data.padding_fraction(batches, lengths)
    padded_to_max = 1 - sum(lengths) / (len(lengths) * max(lengths))
    assert grouped < 0.1 < padded_to_max


def test_plan_steps_counts():
    lengths = [50] * 64
    steps = data.plan_steps(lengths, 200, seed=0, epochs=2, grad_accum=2)
    assert len(steps) == 16 and all(len(s) == 2 for s in steps)  # 16 micro-batches of 4 per epoch, 8 steps
    assert len(data.plan_steps(lengths, 200, seed=0, epochs=1, max_steps=21)) == 21


def test_bad_jsonl_names_file_and_line(tmp_path):
    d = write_dataset(tmp_path, n_train=3, n_eval=1)
    with open(d / "train.jsonl", "a") as f:
        f.write("{not json\n")
    with pytest.raises(BadDatasetError) as e:
        data.load_rows(d)
    assert "train.jsonl:4" in e.value.message and "dataset build" in e.value.hint
    (d / "train.jsonl").write_text(json.dumps({"input": "x"}) + "\n")
    with pytest.raises(BadDatasetError, match="'output'"):
        data.load_rows(d)
    (d / "eval.jsonl").write_text("")
    (d / "train.jsonl").write_text(json.dumps({"input": "x", "output": "y"}) + "\n")
    with pytest.raises(BadDatasetError, match="eval.jsonl: no examples"):
        data.load_rows(d)


PHI2 = types.SimpleNamespace(hidden_size=2560, intermediate_size=10240, num_hidden_layers=32)


def test_memory_profiles():
    gib = memory.GIB
    auto = memory.plan_memory("auto", "cuda", PHI2, max_length=512, total_tokens=100_000, free_bytes=130 * gib)
    assert not auto.gradient_checkpointing
    assert auto.step_tokens == 100_000 // memory.MIN_STEPS_PER_EPOCH
    assert auto.token_budget == auto.step_tokens and auto.grad_accum == 1
    low = memory.plan_memory("low-memory", "cuda", PHI2, max_length=512, total_tokens=100_000,
                             static_bytes=int(3.2 * gib))
    assert low.gradient_checkpointing and low.token_budget < auto.token_budget
    assert low.step_tokens == auto.step_tokens and low.grad_accum >= 2  # same optimizer steps
    tight = memory.plan_memory("auto", "cuda", PHI2, max_length=512, total_tokens=100_000, free_bytes=4 * gib)
    assert tight.gradient_checkpointing
    cpu = memory.plan_memory("auto", "cpu", PHI2, max_length=100, total_tokens=1_000_000)
    assert cpu.token_budget == memory.CPU_TOKEN_BUDGET
    with pytest.raises(ValueError):
        memory.plan_memory("huge", "cpu", PHI2, max_length=100, total_tokens=1000)
