"""Drafting: a day's notes -> a prompt (dataset/template.py) -> a streamed journal entry.

Modules:
    cli       ``journal-tui draft`` (one draft) and ``journal-tui draft --serve`` (warm server)
    prompt    the day's notes rendered with the adapter's template version
    text      stop strings, hold-back while streaming, unescaping, trimming a dangling sentence
    generate  the decode loop: sampling, seeds, cancellation, timing
    decoders  eager (dynamic KV cache) and static-KV-cache decoders (CUDA graph on GPUs)
    engine    base model + adapter loading and the merge policy
    server    the JSON-lines request loop of ``draft --serve``

Only ``cli`` is imported by the command tree; everything heavy is imported inside handlers.
"""
