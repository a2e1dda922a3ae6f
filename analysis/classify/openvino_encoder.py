"""Optional OpenVINO int8 encoder (``[classification] openvino = true``).

Stage: classify (embedding, fast path). In: the configured encoder (+ the heads' adapter). Out:
the same kind of embeddings as :class:`~analysis.classify.encoder.TransformerEncoder`, not
bit-identical (mean cosine 0.996 to fp32 on 2,000 minibar reviews, ONNX Runtime int8 0.991).

Why a second fast path: ONNX Runtime's int8 is dynamic (activations quantised batch by batch,
attention and normalisation left in fp32) and runs the model alone at about 2.4x
sentence-transformers on these two-core CPUs; OpenVINO with a static int8 model quantised by
NNCF in its transformer mode (activation ranges calibrated once, the sensitive operations kept in
fp32) runs the same batches about 1.4x faster again, and closer to fp32
(``bench/bench_classify.py`` measures both and the agreement of their labels).

The quantisation runs once, on first use, into the workspace cache
(``<workspace>/cache/openvino/``): the encoder (adapter merged) is exported to ONNX
(:func:`~analysis.classify.onnx_encoder.export_fp32`), read by OpenVINO, and calibrated on
:func:`calibration_texts`: this project's own written example sentences joined into reviews of
one to eight sentences, so the result depends on nothing a user crawled and the same model gives
the same export everywhere.

OpenVINO prepares its kernels for each new batch shape the first time it sees it (15-25 ms for
each new rows x width product here), so batches are cut to a few fixed token budgets
(:mod:`analysis.classify.batch_plan`) rather than a fixed number of rows: a fresh run meets six
products instead of about fifty. The benchmark reports fresh and long runs. Batches run side by
side, one per OpenVINO stream (two streams of one thread on two cores; see
:meth:`OpenVinoEncoder._run_batches`).
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import random
import shutil
from collections import deque
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from analysis.classify.batch_plan import Batch, token_budget, token_budgets
from analysis.classify.encoder import RUNTIME_TAGS, BaseEncoder, max_tokens
from analysis.classify.hub import ModelLoadError, ModelRef, set_offline_env
from analysis.classify.onnx_encoder import export_fp32, export_path
from analysis.classify.training import EXAMPLES_DIR

log = logging.getLogger(__name__)
EXPORT_VERSION = RUNTIME_TAGS["openvino"].removeprefix("+")
"""Part of the export's name and (as :data:`~analysis.classify.encoder.RUNTIME_TAGS`' entry) of
``model_version``: bump it there when the recipe changes."""
CALIBRATION_FILES = ("input_types.csv", "needs_en_polarity.csv")
CALIBRATION_REVIEWS = 300
CALIBRATION_BATCH = 8
RUNTIME_CACHE_CAPACITY = 300


def import_nncf() -> Any:
    """Import nncf with its telemetry stubbed out, and return the module.

    NNCF sends usage events to Google Analytics unless a consent file in the user's home says
    no; reviewgap runs offline and sends nothing. ``NNCF_CI`` is the switch nncf itself reads,
    at import, to replace its telemetry with a stub (a value the user set is kept).
    """
    os.environ.setdefault("NNCF_CI", "1")
    import nncf

    return nncf


def calibration_texts(n: int = CALIBRATION_REVIEWS, seed: int = 0) -> list[str]:
    """``n`` calibration reviews, each one to eight of the project's written English example
    sentences (``analysis/classify/examples/``) joined; the same list for the same ``seed``."""
    sentences: list[str] = []
    for name in CALIBRATION_FILES:
        with (EXAMPLES_DIR / name).open(encoding="utf-8", newline="") as f:
            sentences += [row["text"] for row in csv.DictReader(f) if row["text"].strip()]
    rng = random.Random(seed)
    # Mostly short reviews, some long ones, as in app stores: activation ranges must cover both.
    sizes = (1, 1, 2, 2, 3, 4, 6, 8)
    return [" ".join(rng.sample(sentences, rng.choice(sizes))) for _ in range(n)]


def export_openvino_int8(ref: ModelRef, target: Path,
                         adapter: dict[str, np.ndarray] | None = None) -> Path:
    """Quantise the encoder (adapter merged) to a static int8 OpenVINO model in folder ``target``
    (``model.xml`` + ``model.bin``); written to a temporary folder and renamed, so a killed
    export never leaves half a model behind."""
    import openvino as ov
    from transformers import AutoTokenizer

    nncf = import_nncf()
    set_offline_env()
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    onnx_path = export_fp32(ref, tmp / "fp32.onnx", adapter)
    model = ov.Core().read_model(str(onnx_path))
    tok = AutoTokenizer.from_pretrained(str(ref.path))
    texts = calibration_texts()
    items = []
    for start in range(0, len(texts), CALIBRATION_BATCH):
        enc = tok(texts[start:start + CALIBRATION_BATCH], truncation=True,
                  max_length=max_tokens(tok), padding=True, return_tensors="np")
        items.append({"input_ids": enc["input_ids"].astype(np.int64),
                      "attention_mask": enc["attention_mask"].astype(np.int64),
                      "token_type_ids": np.zeros_like(enc["input_ids"], dtype=np.int64)})
    quantised = nncf.quantize(model, nncf.Dataset(items), model_type=nncf.ModelType.TRANSFORMER,
                              subset_size=len(items))
    ov.save_model(quantised, str(tmp / "model.xml"))
    onnx_path.unlink()
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


class OpenVinoEncoder(BaseEncoder):
    """OpenVINO inference over the static int8 export, on the CPU."""

    def __init__(self, ref: ModelRef, folder: Path, *, threads: int = 0,
                 batch_size: int = 32) -> None:
        import openvino as ov
        from transformers import AutoTokenizer

        set_offline_env()
        core = ov.Core()
        # f32 where OpenVINO would pick bf16 on cores that have it: without AMX, bf16 ran
        # 1.6x slower than f32 here, and the int8 parts are unaffected by the hint.
        # The runtime cache keeps what OpenVINO prepared per batch shape; at its default size
        # (5,000) a 100,000-review run grew to 3.7 GB, at 300 it stayed at about 1.7-1.9 GB, at
        # the same speed (25,000 reviews: 306 vs 298 reviews/s); both with 32-row batches. With
        # token budgets (batch_plan) far fewer shapes reach it: 1.23 GB after 20,000 reviews.
        # THROUGHPUT: OpenVINO splits the threads into streams (two of one thread on two
        # cores) and batches run side by side, one per stream, instead of each batch on all
        # threads: small batches leave fewer threads waiting on each other (the 2,000 reviews'
        # batches: 2.57-2.63 s against 2.62-2.86 s, measured back to back).
        config = {"INFERENCE_NUM_THREADS": threads or os.cpu_count() or 1,
                  "PERFORMANCE_HINT": "THROUGHPUT", "INFERENCE_PRECISION_HINT": "f32",
                  "CPU_RUNTIME_CACHE_CAPACITY": RUNTIME_CACHE_CAPACITY}
        self.compiled = core.compile_model(core.read_model(str(folder / "model.xml")), "CPU",
                                           config)
        streams = int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        self.requests = [self.compiled.create_infer_request() for _ in range(max(1, streams))]
        super().__init__(ref, AutoTokenizer.from_pretrained(str(ref.path)),
                         batch_size=batch_size)
        self.path = folder
        from transformers import AutoConfig

        self.dim = int(AutoConfig.from_pretrained(str(ref.path)).hidden_size)

    @classmethod
    def from_ref(cls, ref: ModelRef, *, threads: int = 0, batch_size: int = 32,
                 cache_dir: Path | None = None,
                 adapter: dict[str, np.ndarray] | None = None) -> OpenVinoEncoder:
        """Load the cached export, quantising first when it is not there yet.

        Raises:
            ModelLoadError: openvino is not installed, or nncf when the export is not there yet.
        """
        path = export_path(ref, adapter, cache_dir, "openvino", f".{EXPORT_VERSION}",
                           recipe=f"|{EXPORT_VERSION}")
        exported = (path / "model.xml").exists()
        try:
            import openvino  # noqa: F401

            if not exported:
                import_nncf()  # only to quantise: importing it costs 1.5 s at every start-up
        except ImportError:
            raise ModelLoadError(
                "classification.openvino: openvino and nncf are not installed "
                "(pip install 'reviewgap[openvino]')") from None
        if not exported:
            log.info("quantising %s to OpenVINO int8 at %s (once)", ref.id, path)
            export_openvino_int8(ref, path, adapter)
        return cls(ref, path, threads=threads, batch_size=batch_size)

    @cached_property
    def _budgets(self) -> tuple[int, ...]:
        return token_budgets(self.batch_size, self.max_tokens)

    def batch_plan(self, lengths: list[int]) -> list[Batch]:
        """Batches of a few fixed token budgets
        (:func:`~analysis.classify.batch_plan.token_budget`): OpenVINO prepares its kernels
        once per budget instead of once per batch shape."""
        return token_budget(lengths, self._budgets, self.max_tokens)

    def _run_batches(self, batches: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]
                     ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """As :meth:`BaseEncoder._run_batches`, with up to one batch in flight per stream:
        batch k goes to request ``k % streams`` once that request's previous batch is
        collected, and batches are yielded in the plan's order. Left early (an error while
        the caller pools a batch, or the caller stops reading), it waits for the batches still
        in flight, so the next call finds its requests free."""
        pending: deque[tuple[Any, np.ndarray, np.ndarray]] = deque()
        try:
            for k, (idx, input_ids, mask) in enumerate(batches):
                if len(pending) == len(self.requests):
                    yield self._collect(*pending.popleft())
                request = self.requests[k % len(self.requests)]
                request.start_async(_inputs(input_ids, mask))
                pending.append((request, idx, mask))
            while pending:
                yield self._collect(*pending.popleft())
        finally:
            for request, _, _ in pending:
                # Only draining: the error that stopped the run is the one the caller sees.
                with contextlib.suppress(Exception):
                    request.wait()

    @staticmethod
    def _collect(request: Any, idx: np.ndarray, mask: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        request.wait()
        # The request reuses its output buffer: copy before its next batch overwrites it.
        hidden = np.array(request.get_output_tensor(0).data[: len(idx)], copy=True)
        return idx, hidden, mask[: len(idx)]

    def _hidden(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        out = self.requests[0].infer(_inputs(input_ids, attention_mask))
        return np.array(out[self.compiled.output(0)], copy=True)


def _inputs(input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
    """The exported model's inputs for one padded batch."""
    return {"input_ids": input_ids.astype(np.int64),
            "attention_mask": attention_mask.astype(np.int64),
            "token_type_ids": np.zeros_like(input_ids, dtype=np.int64)}
