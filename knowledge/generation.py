"""Answer generators: llama.cpp, transformers (GGUF), an OpenAI-compatible endpoint, or none.

Every backend gets the same input (question, passages, language) and returns a
short answer. Prompts hold only the retrieved passages. The base Gemma model
is not instruction-tuned, so it gets a completion prompt with two worked
examples; instruction-tuned models get a chat prompt.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Protocol

from bot.settings import named_secret

from .config import KnowledgeConfig, resolve_model

log = logging.getLogger(__name__)
BACKENDS = ("auto", "llamacpp", "transformers", "openai", "extractive")

_FEWSHOT = {
    "zh": (
        "以下是物业客服根据资料简短回答业主问题的记录，只使用资料中的信息。\n\n"
        "资料：小区智能快递柜设在东门内侧，凭取件码取件。\n问题：快递放在哪里？\n"
        "回答：快递放在东门内侧的智能快递柜，凭取件码取件。\n\n"
        "资料：游泳馆每周一闭馆清洁，其余时间9:00-21:00开放。\n问题：周一能去游泳吗？\n"
        "回答：不能，游泳馆每周一闭馆清洁，其余时间9:00-21:00开放。\n\n"
        "资料：{context}\n问题：{question}\n回答："
    ),
    "en": (
        "Below, a property service agent answers residents briefly, using only the information given.\n\n"
        "Information: The parcel lockers are inside the East Gate; open them with the pickup code.\n"
        "Question: Where do I collect parcels?\n"
        "Answer: Collect them from the lockers inside the East Gate using your pickup code.\n\n"
        "Information: The pool is closed on Mondays for cleaning and open 9:00-21:00 on other days.\n"
        "Question: Can I swim on Monday?\n"
        "Answer: No, the pool is closed on Mondays; it is open 9:00-21:00 on other days.\n\n"
        "Information: {context}\nQuestion: {question}\nAnswer:"
    ),
}
_SYSTEM = {
    "zh": "你是物业客服。只根据给出的资料，用一两句中文简短回答业主的问题，不要编造资料中没有的信息。",
    "en": "You are a property service agent. Answer the resident's question in one or two short English "
          "sentences using only the given information. Do not add facts that are not in it.",
}
_USER = {"zh": "资料：\n{context}\n\n问题：{question}", "en": "Information:\n{context}\n\nQuestion: {question}"}


class Generator(Protocol):
    """What the answer pipeline needs from a backend."""

    name: str

    def generate(self, question: str, passages: List[str], language: str) -> str: ...


def _context(passages: List[str]) -> str:
    return "\n".join(p.replace("\n", " ") for p in passages)


def fewshot_prompt(question: str, passages: List[str], language: str) -> str:
    """Completion prompt with two examples (for base models)."""
    return _FEWSHOT[language].format(context=_context(passages), question=question.strip())


def chat_messages(question: str, passages: List[str], language: str) -> List[Dict[str, str]]:
    """System + user messages (for instruction-tuned models and HTTP endpoints)."""
    return [{"role": "system", "content": _SYSTEM[language]},
            {"role": "user", "content": _USER[language].format(context=_context(passages), question=question.strip())}]


def _clean(text: str) -> str:
    # base models keep writing the next example: keep the first paragraph
    text = text.strip().split("\n\n")[0].split("\n问题")[0].split("\nQuestion")[0]
    return text.strip()


def _is_chat_model(name: str) -> bool:
    return "instruct" in name.lower() or "chat" in name.lower()


def _gguf_in(folder: Path) -> Path:
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise FileNotFoundError(f"no .gguf file in {folder}; run `python -m bot.provision`")
    return files[0]


class ExtractiveGenerator:
    """No language model: the pipeline answers with the best passage."""

    name = "extractive"

    def generate(self, question: str, passages: List[str], language: str) -> str:
        return ""


class LlamaCppGenerator:
    """GGUF models through llama-cpp-python (fast on CPU)."""

    name = "llamacpp"

    def __init__(self, cfg: KnowledgeConfig) -> None:
        import llama_cpp  # noqa: F401  (fail early with ImportError if not installed)

        self.cfg = cfg
        self._models: Dict[str, object] = {}
        self._lock = threading.Lock()

    def _model(self, name: str):
        with self._lock:
            if name not in self._models:
                from llama_cpp import Llama

                path = _gguf_in(resolve_model(name))
                self._models[name] = Llama(model_path=str(path), n_ctx=2048, n_threads=self.cfg.n_threads,
                                           verbose=False, seed=0)
            return self._models[name]

    def generate(self, question: str, passages: List[str], language: str) -> str:
        name = self.cfg.gen_model_zh if language == "zh" else self.cfg.gen_model_en
        llm = self._model(name)
        with self._lock:  # a llama.cpp context is not thread-safe
            if _is_chat_model(name):
                out = llm.create_chat_completion(messages=chat_messages(question, passages, language),
                                                 max_tokens=self.cfg.max_new_tokens, temperature=0.0)
                return _clean(out["choices"][0]["message"]["content"] or "")
            out = llm.create_completion(fewshot_prompt(question, passages, language),
                                        max_tokens=self.cfg.max_new_tokens, temperature=0.0,
                                        stop=["\n\n", "\n问题", "\nQuestion", "\n资料", "\nInformation"])
            return _clean(out["choices"][0]["text"])


def _enable_transformers_gguf() -> None:
    """Let transformers read GGUF when its version probe fails.

    transformers finds the gguf version through package metadata; in this venv
    the module is not mapped to its distribution, the version reads "N/A" and
    GGUF loading is refused although gguf 0.19 is installed and works.
    """
    import importlib.metadata as md

    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    if gguf_utils.is_gguf_available():
        return
    try:
        major, minor = (int(x) for x in md.version("gguf").split(".")[:2])
    except (md.PackageNotFoundError, ValueError):
        return  # really missing: transformers' own error tells the user to install it
    if (major, minor) >= (0, 10):
        gguf_utils.is_gguf_available = lambda *args, **kwargs: True


class _StopAtNewline:
    """Stopping criterion: the generated text (after the prompt) contains a line break."""

    def __init__(self, tokenizer, prompt_len: int) -> None:
        self.tokenizer, self.prompt_len = tokenizer, prompt_len

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        text = self.tokenizer.decode(input_ids[0, self.prompt_len:], skip_special_tokens=True)
        done = "\n" in text.strip("\n") or (text.endswith("\n") and text.strip() != "")
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


class TransformersGenerator:
    """GGUF models dequantised into transformers (slow on CPU; saved once for fast reloads)."""

    name = "transformers"

    def __init__(self, cfg: KnowledgeConfig) -> None:
        self.cfg = cfg
        self._models: Dict[str, tuple] = {}
        self._lock = threading.Lock()

    def _model(self, name: str):
        with self._lock:
            if name not in self._models:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer

                torch.set_num_threads(self.cfg.n_threads)
                cache = self.cfg.path(self.cfg.hf_cache) / Path(name).name
                if (cache / "config.json").exists():
                    tok = AutoTokenizer.from_pretrained(cache)
                    model = AutoModelForCausalLM.from_pretrained(cache)
                else:  # first load dequantises the GGUF (tens of seconds); keep the result
                    _enable_transformers_gguf()
                    folder = resolve_model(name)
                    gguf = _gguf_in(folder).name
                    tok = AutoTokenizer.from_pretrained(folder, gguf_file=gguf)
                    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf)
                    try:
                        model.save_pretrained(cache)
                        tok.save_pretrained(cache)
                    except OSError as exc:
                        log.warning("could not cache %s in %s: %s", name, cache, exc)
                model.eval()
                self._models[name] = (tok, model)
            return self._models[name]

    def generate(self, question: str, passages: List[str], language: str) -> str:
        import torch

        name = self.cfg.gen_model_zh if language == "zh" else self.cfg.gen_model_en
        tok, model = self._model(name)
        if _is_chat_model(name) and getattr(tok, "chat_template", None):
            prompt = tok.apply_chat_template(chat_messages(question, passages, language), tokenize=False,
                                             add_generation_prompt=True)
        else:
            prompt = fewshot_prompt(question, passages, language)
        inputs = tok(prompt, return_tensors="pt", add_special_tokens=not _is_chat_model(name))
        with torch.inference_mode():
            # stop at the end of the answer line, as the llama.cpp backend does (base models run on);
            # `stop_strings` cannot map "\n" in SmolLM2's byte-level vocabulary, hence a criterion
            out = model.generate(**inputs, max_new_tokens=self.cfg.max_new_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id or tok.eos_token_id,
                                 stopping_criteria=[_StopAtNewline(tok, inputs["input_ids"].shape[1])])
        text = tok.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        return _clean(text)


class GeneratorUnavailable(RuntimeError):
    """The generator cannot answer now (endpoint down, timed out, in its cool-down): answer extractively."""


# Instruction for an OpenAI-compatible endpoint (an instruction-tuned model: Qwen, DeepSeek, Llama …):
# answer only from the numbered passages, name the source, and say so when they do not answer.
_CITED_SYSTEM = {
    "zh": "你是物业客服。只根据下面编号的资料，用一到三句中文简短回答业主的问题，并注明依据的来源"
          "（照抄资料前的来源名称，例如《物业管理条例》第十四条）。资料里没有答案时，只回答：" + "资料中没有相关信息。"
          "不要编造资料中没有的电话、金额、日期、时间或规定。",
    "en": "You are a property service agent. Answer the resident's question in one to three short English "
          "sentences using only the numbered information below, and name the source you used (copy the "
          "source name given before the information, e.g. 《物业管理条例》第十四条 or FAQ — Parking). If the "
          "information does not answer the question, reply only: I don't know. Never add phone numbers, "
          "prices, dates, times or rules that are not in it.",
}
NOT_IN_PASSAGES = {"zh": "资料中没有相关信息", "en": "I don't know"}
_DONT_KNOW = re.compile(r"资料中没有|没有相关信息|无法回答|无法根据|不知道|i don'?t know|do not know|"
                        r"not (?:in|mentioned in|covered by) the (?:information|passages|text)|no information", re.I)
_REF_MARK = re.compile(r"\s*[\[【]\d+[\]】]")
_LABEL_PREFIX = re.compile(r"^\s*(?:常见问题|FAQ)\s*—\s*[^：:\n]{1,20}[：:]\s*")  # a copied passage label


def cited_messages(question: str, passages: List[str], language: str) -> List[Dict[str, str]]:
    """Chat messages for an instruction-tuned endpoint: numbered, labelled passages and the question."""
    context = "\n".join(f"[{i}] {p.replace(chr(10), ' ')}" for i, p in enumerate(passages, 1))
    return [{"role": "system", "content": _CITED_SYSTEM[language]},
            {"role": "user", "content": _USER[language].format(context=context, question=question.strip())}]


def says_not_known(text: str) -> bool:
    """The model said the passages do not answer the question."""
    return bool(_DONT_KNOW.search(text or ""))


class OpenAIGenerator:
    """Any OpenAI-compatible ``/chat/completions`` endpoint (vLLM, llama.cpp server, Ollama, Qwen, DeepSeek …).

    Sends the system instruction, the retrieved passages (each labelled with its citation,
    :attr:`labelled`) and the question; ``temperature`` 0, ``max_tokens`` = ``max_new_tokens``.
    The request is bounded by ``llm_connect_timeout_s`` and ``llm_timeout_s``; any failure
    raises :class:`GeneratorUnavailable` and, for ``llm_cooldown_s``, later calls raise it at
    once, so residents get the extractive answer instead of waiting on a dead endpoint.
    """

    name = "openai"
    labelled = True  # passages arrive as "《…》第N条：text" so the model can cite them

    def __init__(self, cfg: KnowledgeConfig) -> None:
        if not cfg.llm_url:
            raise ValueError("generator 'openai' needs KNOWLEDGE_LLM_URL (e.g. http://localhost:8000/v1)")
        self.cfg = cfg
        self._down_until = 0.0
        self._lock = threading.Lock()

    def generate(self, question: str, passages: List[str], language: str) -> str:
        import requests

        with self._lock:
            if time.monotonic() < self._down_until:
                raise GeneratorUnavailable("endpoint in cool-down after a failed request")
        headers = {"Content-Type": "application/json"}
        key = named_secret(self.cfg.llm_api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        body = {"model": self.cfg.llm_model or "default", "messages": cited_messages(question, passages, language),
                "max_tokens": self.cfg.max_new_tokens, "temperature": 0, "stream": False}
        url = self.cfg.llm_url.rstrip("/") + "/chat/completions"
        deadline = time.monotonic() + self.cfg.llm_timeout_s
        try:
            timeout = (min(self.cfg.llm_connect_timeout_s, self.cfg.llm_timeout_s), self.cfg.llm_timeout_s)
            with requests.post(url, headers=headers, data=json.dumps(body), timeout=timeout, stream=True) as resp:
                resp.raise_for_status()
                raw = bytearray()
                for part in resp.iter_content(8192):  # a server trickling bytes still ends at the deadline
                    raw.extend(part)
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"no complete answer within {self.cfg.llm_timeout_s} s")
            content = json.loads(bytes(raw))["choices"][0]["message"]["content"] or ""
        except (requests.RequestException, TimeoutError, ValueError, KeyError, IndexError, TypeError) as exc:
            with self._lock:
                self._down_until = time.monotonic() + self.cfg.llm_cooldown_s
            log.warning("generator endpoint %s failed (%s: %s); extractive answers for %.0f s",
                        url, type(exc).__name__, exc, self.cfg.llm_cooldown_s)
            raise GeneratorUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return _LABEL_PREFIX.sub("", _REF_MARK.sub("", _clean(content))).strip()


_PROBE = """
import sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=256, n_threads=1, verbose=False)
llm.create_completion("Hello", max_tokens=2)
"""
_probe_result: Dict[str, Optional[str]] = {}


def llamacpp_problem(cfg: KnowledgeConfig) -> Optional[str]:
    """Why llama.cpp cannot be used here (None when it works).

    A llama.cpp build with CPU paths the machine lacks dies with SIGSEGV/SIGILL,
    which would take the whole action server down, so it is tried once in a
    child process first.
    """
    if "result" not in _probe_result:
        import subprocess
        import sys

        try:
            import llama_cpp  # noqa: F401

            path = _gguf_in(resolve_model(cfg.gen_model_en))
            proc = subprocess.run([sys.executable, "-c", _PROBE, str(path)], capture_output=True, timeout=120)
            _probe_result["result"] = None if proc.returncode == 0 else (
                f"llama.cpp test run failed with exit code {proc.returncode}; rebuild it as described in "
                f"requirements-llama.txt")
        except ImportError:
            _probe_result["result"] = "llama-cpp-python is not installed (pip install -r requirements-llama.txt)"
        except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
            _probe_result["result"] = f"llama.cpp test run failed: {exc}"
    return _probe_result["result"]


def make_generator(cfg: KnowledgeConfig, backend: Optional[str] = None) -> Generator:
    """Create the configured backend.

    "auto" = llama.cpp when it runs here; otherwise no generator (best passage), because
    on 2 CPU cores the transformers backend took 12-46 s per answer and every output
    was rejected by the grounding checks (docs/benchmarks.md). Choose "transformers"
    explicitly to use it anyway.
    """
    backend = backend or cfg.generator
    if backend not in BACKENDS:
        raise ValueError(f"generator '{backend}' unknown; use one of {BACKENDS}")
    if backend in ("auto", "llamacpp"):
        problem = llamacpp_problem(cfg)
        if problem is None:
            return LlamaCppGenerator(cfg)
        if backend == "llamacpp":
            raise RuntimeError(problem)
        log.warning("%s; answering with the best passage (set KNOWLEDGE_GENERATOR=transformers "
                    "to generate with transformers, 12-46 s per answer on 2 cores)", problem)
        return ExtractiveGenerator()
    return {"llamacpp": LlamaCppGenerator, "transformers": TransformersGenerator, "openai": OpenAIGenerator,
            "extractive": ExtractiveGenerator}[backend](cfg)
