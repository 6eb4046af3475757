"""The decode loop and the engine with the tiny Phi on the CPU."""

from __future__ import annotations

import threading

import pytest
import torch

from draft_helpers import DAY, RUN_ID, add_notes, events_of, make_adapter
from journal_tui.drafting.generate import SamplingSettings, generate

GREEDY = dict(temperature=0.0, top_p=1.0, repetition_penalty=1.0)


class ScriptDecoder:
    """Returns logits that make greedy decoding produce ``ids`` then ``then`` forever."""

    name = "script"
    device = torch.device("cpu")

    def __init__(self, ids, vocab, then):
        self.ids, self.vocab, self.then = list(ids), vocab, then
        self.calls = 0

    def _logits(self):
        target = self.ids[self.calls] if self.calls < len(self.ids) else self.then
        self.calls += 1
        x = torch.full((self.vocab,), -30.0)
        x[target] = 10.0
        return x

    def prefill(self, ids):
        self.calls = 0
        return self._logits()

    def step(self, token_id):
        return self._logits()


@pytest.fixture(scope="module")
def tok(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def scripted(tok, text, *, max_new=200, then=None, cancel=None, on_delta=None):
    ids = tok(text, add_special_tokens=False)["input_ids"]
    eos = tok.eos_token_id
    dec = ScriptDecoder(ids, len(tok), eos if then is None else then)
    deltas = []

    def sink(d):
        deltas.append(d)
        if on_delta:
            on_delta(d)

    out = generate(dec, tok, [1, 2, 3], SamplingSettings(max_new_tokens=max_new, **GREEDY), eos_ids={eos},
                   on_delta=sink, cancel=cancel)
    return out, deltas, ids


def test_loop_ends_at_eos_and_streams_the_whole_text(tok):
    out, deltas, ids = scripted(tok, "Went for a run by the river. The knee held up fine.")
    assert out.finish_reason == "eos"
    assert out.new_tokens == len(ids)
    assert out.text == "Went for a run by the river. The knee held up fine."
    assert "".join(deltas) == out.text and len(deltas) > 1


def test_loop_stops_at_a_new_section(tok):
    out, deltas, _ = scripted(tok, "Lunch with Sam.\n<<journal 2026-11-30 Monday>>\n<<notes>>\n")
    assert out.finish_reason == "stop"
    assert out.text == "Lunch with Sam."
    assert "".join(deltas) == out.text
    assert not any("<" in d for d in deltas)


def test_loop_length_trims_the_dangling_sentence(tok):
    text = "Read two chapters before bed. Slept badly, woke at"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    out, deltas, _ = scripted(tok, text + " five and more", max_new=len(ids))
    assert out.finish_reason == "length"
    assert out.new_tokens == len(ids)
    assert out.text == "Read two chapters before bed."
    assert "".join(deltas) == out.text + out.retracted


def test_loop_cancel_from_another_thread(tok):
    cancel = threading.Event()
    text = "Today was long. " * 30
    out, deltas, ids = scripted(tok, text, cancel=cancel, on_delta=lambda d: cancel.set())
    assert out.finish_reason == "cancelled"
    assert 0 < out.new_tokens < len(ids)
    assert "".join(deltas) == out.text + out.retracted


# ---------------------------------------------------------------------------- engine


@pytest.fixture
def engine_factory(home, tiny_model_dir):
    from journal_tui.drafting.engine import DraftEngine
    from journal_tui.locations import Locations

    def make(adapter="latest", decoder="auto"):
        return DraftEngine.load(Locations.resolve(home), model_spec=str(tiny_model_dir), adapter_ref=adapter,
                                decoder=decoder, device="cpu")

    return make


def _draft(engine, prompt, **kw):
    deltas = []
    settings = SamplingSettings(**{"max_new_tokens": 60, "seed": 3, **kw})
    out = engine.draft(prompt, settings, on_delta=deltas.append)
    return out, deltas


def test_engine_streams_deltas_adding_up_to_the_text_and_seed_reproduces(engine_factory, home):
    eng = engine_factory(adapter="none")
    assert eng.adapter is None and eng.describe()["adapter"] is None
    prompt = "<<journal 2026-11-29 Sunday>>\n<<notes>>\n[09:15] Went for a run.\n<<entry>>\n"
    a, da = _draft(eng, prompt)
    b, db = _draft(eng, prompt)
    c, _ = _draft(eng, prompt, seed=4)
    assert a.finish_reason in ("eos", "stop", "length")
    assert "".join(da) == a.text + a.retracted
    assert a.text == b.text and da == db and a.seed == 3
    assert c.text != a.text
    assert a.new_tokens > 0 and (a.tokens_per_s is None or a.tokens_per_s > 0)


def test_static_decoder_matches_eager(tiny_model_dir):
    """The CUDA-graph path's code (static cache, own 4-D mask, in-place position) without the graph."""
    from transformers import AutoModelForCausalLM

    from journal_tui.drafting.decoders import EagerDecoder, StaticDecoder

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    eager, static = EagerDecoder(model), StaticDecoder(model, 128)
    static.warmup()
    prompt = [5, 17, 42, 99, 7, 3]
    for _ in range(2):  # twice: the second prefill must reset the static cache
        le, ls = eager.prefill(prompt), static.prefill(prompt)
        assert torch.allclose(le, ls, atol=1e-4), (le - ls).abs().max()
        for t in [11, 250, 3, 3, 77]:
            le, ls = eager.step(t), static.step(t)
            assert torch.allclose(le, ls, atol=1e-4), (le - ls).abs().max()
        prompt = prompt[::-1]


def test_fused_gelu_is_the_same_function(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    from journal_tui.drafting.decoders import fuse_activations

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    x = torch.tensor([[5, 17, 42, 99, 7, 3, 250]])
    with torch.no_grad():
        before = model(input_ids=x).logits
        assert fuse_activations(model) == model.config.num_hidden_layers
        after = model(input_ids=x).logits
    assert fuse_activations(model) == 0
    assert torch.allclose(before, after, atol=1e-5)


def test_static_decoder_drafts_like_eager(engine_factory, home, tiny_model_dir):
    make_adapter(home, tiny_model_dir)
    eager, static = engine_factory(), engine_factory(decoder="static")
    assert static.decoder.name == "static" and eager.decoder.name == "eager"
    prompt = "<<journal 2026-11-29 Sunday>>\n<<notes>>\n[09:15] Lunch with Sam.\n<<entry>>\n"
    a, da = _draft(eager, prompt, **GREEDY)
    b, db = _draft(static, prompt, **GREEDY)
    assert a.new_tokens > 3
    assert a.text == b.text and da == db


def test_adapter_is_loaded_merged_and_changes_the_output(engine_factory, home, tiny_model_dir):
    make_adapter(home, tiny_model_dir)
    with_adapter = engine_factory()
    base = engine_factory(adapter="none")
    d = with_adapter.describe()
    assert d["adapter"] == RUN_ID and d["merged"] is True and d["template_version"] == "jt-1"
    ids = with_adapter.encode("<<journal 2026-11-29 Sunday>>\n<<notes>>\n")
    la = with_adapter.decoder.prefill(ids)
    lb = base.decoder.prefill(ids)
    assert not torch.allclose(la, lb, atol=1e-3)


def test_adapter_trained_on_another_base_is_refused(engine_factory, home, tiny_model_dir):
    from journal_tui.training.errors import AdapterMismatchError

    make_adapter(home, tiny_model_dir, arch_change={"hidden_size": 2560})
    with pytest.raises(AdapterMismatchError) as e:
        engine_factory()
    assert e.value.kind == "adapter_mismatch" and RUN_ID in e.value.message


# ---------------------------------------------------------------------------- CLI


def test_cli_events_draft(home, tiny_model_dir, capsys):
    from journal_tui.cli import main

    add_notes(home)
    make_adapter(home, tiny_model_dir)
    rc = main(["draft", "--model", str(tiny_model_dir), "--date", DAY.isoformat(), "--seed", "5",
               "--max-new-tokens", "30", "--events", "jsonl"])
    evs = events_of(capsys.readouterr().out)
    assert rc == 0
    names = [e["event"] for e in evs]
    assert names[0] == "ready" and names[1] == "start" and names[-1] == "done"
    assert set(names[2:-1]) <= {"token"}
    done = evs[-1]
    assert done["adapter"] == RUN_ID and done["base"] == str(tiny_model_dir)
    assert done["finish_reason"] in ("eos", "stop", "length") and done["new_tokens"] <= 30
    assert "".join(e["text"] for e in evs if e["event"] == "token") == done["text"] + done["retracted"]
    assert evs[1]["notes"] == 2 and evs[1]["day"] == DAY.isoformat()


def test_cli_no_notes_day(home, tiny_model_dir, capsys):
    from journal_tui.cli import main

    add_notes(home)  # notes on DAY, none the day before
    rc = main(["draft", "--model", str(tiny_model_dir), "--date", "2026-11-28", "--events", "jsonl"])
    evs = events_of(capsys.readouterr().out)
    assert rc == 2
    assert [e["event"] for e in evs] == ["error"]
    assert evs[0]["kind"] == "no_notes" and "2026-11-28" in evs[0]["message"] and "notes add" in evs[0]["hint"]
    rc = main(["draft", "--model", str(tiny_model_dir), "--date", "2026-11-28"])
    err = capsys.readouterr().err
    assert rc == 2 and "no notes on 2026-11-28" in err


def test_cli_adapter_mismatch_is_an_error_not_a_base_draft(home, tiny_model_dir, capsys):
    from journal_tui.cli import main

    add_notes(home)
    make_adapter(home, tiny_model_dir, arch_change={"num_hidden_layers": 32})
    rc = main(["draft", "--model", str(tiny_model_dir), "--date", DAY.isoformat(), "--events", "jsonl"])
    evs = events_of(capsys.readouterr().out)
    assert rc == 2
    assert [e["event"] for e in evs] == ["error"] and evs[0]["kind"] == "adapter_mismatch"


def test_cli_adapter_none_drafts_with_the_base(home, tiny_model_dir, capsys):
    from journal_tui.cli import main

    add_notes(home)
    make_adapter(home, tiny_model_dir, arch_change={"num_hidden_layers": 32})  # would be refused
    rc = main(["draft", "--model", str(tiny_model_dir), "--date", DAY.isoformat(), "--adapter", "none",
               "--max-new-tokens", "8", "--events", "jsonl"])
    evs = events_of(capsys.readouterr().out)
    assert rc == 0 and evs[0]["adapter"] is None and evs[-1]["event"] == "done" and evs[-1]["adapter"] is None
