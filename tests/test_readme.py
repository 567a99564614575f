"The README's Python example runs as written, on a tiny model and tokenizer saved to disk."
import re

from conftest import ROOT


def make_checkpoints(tmp_path):
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(["def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\n"] * 20, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>")
    paths = {}
    for name, layers in [("target", 3), ("small-draft", 1)]:
        torch.manual_seed(layers)
        cfg = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=layers,
                          num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
        path = tmp_path / name
        LlamaForCausalLM(cfg).save_pretrained(path)
        fast.save_pretrained(path)
        paths[name] = path
    return paths


def test_readme_hf_example_runs(tmp_path, capsys):
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    example = next(b for b in blocks if "sd.generate(" in b)
    paths = make_checkpoints(tmp_path)
    code = example.replace('"path/to/target"', repr(str(paths["target"]))).replace('"path/to/small-draft"', repr(str(paths["small-draft"])))
    assert code != example
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "tau = " in out and "target_forwards" in out


def run_readme_example(marker):
    "Execute the README's Python block that mentions `marker`; return its namespace."
    readme = (ROOT / "README.md").read_text()
    example = next(b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if marker in b)
    env = {}
    exec(compile(example, "README.md", "exec"), env)
    return env


def test_readme_self_speculative_example_runs():
    "The Kangaroo / Hydra / Token Recycling example runs on the shipped zoo and matches plain greedy decoding."
    env = run_readme_example("KangarooDecoder")
    ref = env["generate"](env["target"], env["ids"], None, 48).tokens
    assert env["out"].tokens == ref and env["out"].trace.tau > 1


def test_readme_dllm_example_runs():
    "The diffusion-LLM example runs on the shipped tiny model, sorts the list, and both methods need fewer than 24 forwards."
    env = run_readme_example("load_mdm")
    fast = env["generate"](env["model"], env["prompt"], policy=env["Threshold"](0.9))
    assert env["vocab"].decode(fast.tokens) == ["A", "B", "C", "D"] and fast.nfe < 24
    assert env["vocab"].decode(env["out"].tokens) == ["A", "B", "C", "D"] and env["out"].nfe < 24


def test_readme_image_example_runs():
    "The image example samples a digit with Speculative Jacobi Decoding on the shipped model, in fewer forwards than its 64 tokens."
    env = run_readme_example("jacobi_sample")
    assert len(env["out"]["tokens"]) == 64 and env["out"]["nfe"] < 64


def test_readme_reasoning_example_runs():
    "The reasoning example samples 32 paths in one batch, votes, runs RPC and CNTP on the shipped reasoner."
    env = run_readme_example("cntp_sample")
    paths, q = env["paths"], env["q"]
    assert len(paths.paths) == 32 and paths.forwards <= max(len(p.tokens) for p in paths.paths) + 1   # one forward per token for all 32
    sc, rpc = env["self_consistency"](paths.answers(0)), env["rpc_aggregate"](paths.of(0))
    assert abs(sum(sc.values()) - 1) < 1e-9 and abs(sum(rpc.values()) - 1) < 1e-9 and set(rpc) <= set(sc)
    assert len(env["cautious"].paths) == 4 and all(p.cost >= len(p.tokens) for p in env["cautious"].paths)


def test_readme_alignment_example_runs():
    "The DeAL example steers the shipped draft toward required words and spends what best-of-N is then given."
    env = run_readme_example("deal_search")
    out, bon = env["out"], env["bon"]
    assert len(out.tokens) == 16 and out.compute > 16 and 0.0 <= out.reward <= 1.0 and 0.0 <= bon.reward <= 1.0
