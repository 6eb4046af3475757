"""A tiny Phi built on the fly for CPU tests: PhiConfig with hidden size 64 and 2 layers, and a
byte-level BPE tokenizer trained by ``tokenizers`` in milliseconds. Saved as an ordinary Hugging
Face folder, so the product's real loading path (``--model DIR``) is what the tests exercise.
"""

from __future__ import annotations

from pathlib import Path

EOS = "<|endoftext|>"

CORPUS = [
    "Went for a run by the river this morning. The knee held up fine.",
    "Lunch with Sam. We talked about the move and the new flat.",
    "Read two chapters before bed. Slept badly, woke at five.",
    "Today was long. Work, then groceries, then a quiet evening writing.",
    "<<journal 2026-11-29 Sunday>>\n<<notes>>\n[09:15] note\n<<entry>>\n",
    "Dear diary, the weather turned cold and the office was loud.",
] * 20


def build_tiny_model(path: Path, *, seed: int = 0) -> Path:
    """Write a random-weight tiny Phi (hidden 64, 2 layers, vocab ~600) and its tokenizer to
    ``path``; return ``path``."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PhiConfig, PhiForCausalLM, PreTrainedTokenizerFast

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS, vocab_size=600, min_frequency=1, special_tokens=[EOS], show_progress=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token=EOS, eos_token=EOS, unk_token=EOS)
    tok.save_pretrained(path)
    torch.manual_seed(seed)
    config = PhiConfig(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=512,
        partial_rotary_factor=0.5,
        bos_token_id=tok.eos_token_id,
        eos_token_id=tok.eos_token_id,
        tie_word_embeddings=False,
    )
    model = PhiForCausalLM(config)
    model.save_pretrained(path)
    return path
