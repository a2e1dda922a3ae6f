"""The OpenVINO static int8 encoder (``[classification] openvino = true``), on a tiny model built
in a fixture: it quantises once into the workspace cache, agrees with fp32, keeps its labels
apart in ``model_version``, and fails clearly when misconfigured or not installed."""

from __future__ import annotations

import builtins
import csv
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("transformers")

from analysis.classify.hub import ModelLoadError, resolve_model
from analysis.config import ConfigError
from tests.support.tiny_models import build_tiny_project, tiny_config

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ["the app is very bad", "great app love it", "please add sync", "why is login slow"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    return build_tiny_project(tmp_path_factory.mktemp("tiny-openvino"))


def test_calibration_texts_are_our_examples_joined_and_the_same_every_time() -> None:
    from analysis.classify.openvino_encoder import CALIBRATION_FILES, calibration_texts
    from analysis.classify.training import EXAMPLES_DIR

    texts = calibration_texts()
    assert len(texts) == 300
    assert texts == calibration_texts()
    assert texts != calibration_texts(seed=1)
    sentences = {row["text"] for f in CALIBRATION_FILES
                 for row in csv.DictReader((EXAMPLES_DIR / f).open(encoding="utf-8"))}
    # Every calibration review opens with one of the project's own written sentences.
    assert all(any(t.startswith(s) for s in sentences) for t in texts)
    lengths = {t.count(" ") for t in texts}
    assert max(lengths) > 4 * min(lengths)  # short and long reviews both calibrate


def test_openvino_encoder_quantises_once_and_agrees_with_fp32(tiny) -> None:
    pytest.importorskip("openvino", reason="the openvino extra is not installed")
    pytest.importorskip("nncf", reason="the openvino extra is not installed")
    from analysis.classify.pipeline import build_classifier

    folder = tiny[0]
    cache = folder / "ws" / "cache" / "openvino"
    fp32 = build_classifier(tiny_config(tiny))
    fast = build_classifier(tiny_config(tiny, openvino=True))
    exported = sorted(p.name for p in cache.iterdir())
    assert len(exported) == 1, exported
    assert (cache / exported[0] / "model.xml").exists()
    assert not list(cache.glob("*.tmp")), "the temporary export folder was left behind"
    assert not list((cache / exported[0]).glob("*.onnx")), "the fp32 ONNX step was kept"
    assert "+ov-int8-1" in fast.model_version
    assert fast.model_version != fp32.model_version
    assert fast.model_version.replace("+ov-int8-1", "", 1) == fp32.model_version
    a, b = fp32.encoder.encode(TEXTS), fast.encoder.encode(TEXTS)
    assert a.shape == b.shape
    cos = (a * b).sum(axis=1)
    assert cos.min() > 0.9, cos
    out = fast.classify(TEXTS)
    assert [o.status for o in out] == ["ok"] * 4
    build_classifier(tiny_config(tiny, openvino=True))  # second use: no new export
    assert sorted(p.name for p in cache.iterdir()) == exported


def test_openvino_batches_hold_a_few_token_budgets_and_give_the_same_vectors(tiny) -> None:
    """Batches are cut to fixed token budgets (few shapes for OpenVINO to prepare); a static
    int8 model gives each row the same vector whatever rows share its batch."""
    pytest.importorskip("openvino", reason="the openvino extra is not installed")
    pytest.importorskip("nncf", reason="the openvino extra is not installed")
    from analysis.classify.batch_plan import fixed_rows
    from analysis.classify.pipeline import build_classifier

    enc = build_classifier(tiny_config(tiny, openvino=True, batch_size=4)).encoder
    texts = [" ".join(["sync"] * n) + f" {n}" for n in range(1, 60)]
    shapes: list[tuple[int, ...]] = []
    plan = enc.padded_batches

    def recorded(ids):  # type: ignore[no-untyped-def]
        for batch in plan(ids):
            shapes.append(batch[1].shape)
            yield batch

    enc.padded_batches = recorded
    enc.clear_cache()
    got = enc.encode(texts)
    budget_products = {rows * width for rows, width in shapes}
    assert budget_products
    assert budget_products <= set(enc._budgets)
    shapes.clear()
    enc.batch_plan = lambda lengths: fixed_rows(lengths, enc.batch_size)
    enc.clear_cache()
    want = enc.encode(texts)
    del enc.batch_plan, enc.padded_batches
    fixed_products = {rows * width for rows, width in shapes}
    assert len(fixed_products) == len(shapes) > len(budget_products)
    assert np.allclose(got, want, atol=1e-5)


def test_openvino_batches_in_flight_side_by_side_come_back_in_order(tiny) -> None:
    """With a batch in flight per stream, each text still gets its own vector: the same as
    running the batches one at a time through a single request."""
    pytest.importorskip("openvino", reason="the openvino extra is not installed")
    pytest.importorskip("nncf", reason="the openvino extra is not installed")
    from analysis.classify.encoder import BaseEncoder
    from analysis.classify.pipeline import build_classifier

    enc = build_classifier(tiny_config(tiny, openvino=True, batch_size=2, threads=2)).encoder
    texts = [f"{word} " * n + str(n) for n in range(1, 40) for word in ("sync", "crash")]
    # Three in flight, whatever number of streams OpenVINO chose on this machine.
    enc.requests = [enc.compiled.create_infer_request() for _ in range(3)]
    enc.clear_cache()
    side_by_side = enc.encode(texts)
    enc._run_batches = lambda batches: BaseEncoder._run_batches(enc, batches)
    enc.clear_cache()
    one_at_a_time = enc.encode(texts)
    assert len({tuple(np.round(v, 3)) for v in side_by_side}) == len(texts)
    assert np.allclose(side_by_side, one_at_a_time, atol=1e-6)


def test_onnx_and_openvino_together_is_a_config_error(tiny) -> None:
    with pytest.raises(ConfigError, match="onnx and openvino"):
        tiny_config(tiny, onnx=True, openvino=True)


def test_missing_openvino_names_the_config_key_and_the_extra(tiny, monkeypatch) -> None:
    from analysis.classify.pipeline import build_classifier

    real_import = builtins.__import__

    def no_openvino(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name.split(".")[0] in ("openvino", "nncf"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_openvino)
    with pytest.raises(ModelLoadError, match=r"classification\.openvino.*reviewgap\[openvino\]"):
        build_classifier(tiny_config(tiny, openvino=True))


def test_a_quantised_model_loads_without_nncf(tiny, tmp_path, monkeypatch) -> None:
    """nncf only quantises: once the export is cached, loading it must not need (or pay the
    1.5 s import of) nncf."""
    pytest.importorskip("openvino", reason="the openvino extra is not installed")
    pytest.importorskip("nncf", reason="the openvino extra is not installed")
    from analysis.classify.openvino_encoder import OpenVinoEncoder

    ref = resolve_model(str(tiny[1]), "classification.encoder")
    first = OpenVinoEncoder.from_ref(ref, threads=1, cache_dir=tmp_path).encode(TEXTS)
    real_import = builtins.__import__

    def no_nncf(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name.split(".")[0] == "nncf":
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_nncf)
    again = OpenVinoEncoder.from_ref(ref, threads=1, cache_dir=tmp_path).encode(TEXTS)
    assert (first == again).all()


def test_a_failed_quantisation_leaves_no_model_behind(tiny, tmp_path, monkeypatch) -> None:
    pytest.importorskip("openvino", reason="the openvino extra is not installed")
    nncf = pytest.importorskip("nncf", reason="the openvino extra is not installed")
    from analysis.classify.openvino_encoder import OpenVinoEncoder

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("killed mid-quantisation")

    monkeypatch.setattr(nncf, "quantize", crash)
    ref = resolve_model(str(tiny[1]), "classification.encoder")
    with pytest.raises(RuntimeError, match="killed"):
        OpenVinoEncoder.from_ref(ref, threads=1, cache_dir=tmp_path)
    assert not list((tmp_path / "openvino").glob("*/model.xml"))
    monkeypatch.undo()
    # The next use starts the export again and completes it.
    enc = OpenVinoEncoder.from_ref(ref, threads=1, cache_dir=tmp_path)
    assert enc.encode(TEXTS).shape[0] == 4
    assert len(list((tmp_path / "openvino").glob("*/model.xml"))) == 1


def test_nncf_is_imported_with_its_telemetry_stubbed_out() -> None:
    """Outside pytest (which nncf detects by itself), nncf would send usage events to Google
    Analytics; :func:`import_nncf` must switch that off. Checked in a fresh interpreter, with
    no CI or NNCF variable that would switch it off anyway."""
    pytest.importorskip("nncf", reason="the openvino extra is not installed")
    pytest.importorskip("openvino_telemetry", reason="nncf without telemetry: nothing to stub")
    env = {k: v for k, v in os.environ.items()
           if k not in ("CI", "NNCF_CI", "NNCF_DEV", "TF_BUILD", "JENKINS_URL")}
    code = ("from analysis.classify.openvino_encoder import import_nncf\n"
            "import_nncf()\n"
            "from nncf.telemetry.wrapper import NNCFTelemetry, telemetry\n"
            "print(type(telemetry).__name__, isinstance(telemetry, NNCFTelemetry))\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT, timeout=300)
    assert out.stdout.split() == ["MagicMock", "False"], out.stdout + out.stderr


class _Request:
    """Stands in for an OpenVINO infer request: busy from start_async until wait."""

    def __init__(self) -> None:
        self.busy = False
        self.rows = 0

    def start_async(self, inputs: dict) -> None:  # type: ignore[type-arg]
        if self.busy:
            raise RuntimeError("Infer Request is busy")
        self.busy, self.rows = True, len(inputs["input_ids"])

    def wait(self) -> None:
        self.busy = False

    def get_output_tensor(self, index: int) -> SimpleNamespace:
        return SimpleNamespace(data=np.zeros((self.rows, 3, 4), dtype=np.float32))


def test_openvino_run_left_early_leaves_its_requests_free() -> None:
    """A run the caller stops reading (an error while pooling a batch) waits for the batches
    still in flight, so the next run does not find its requests busy."""
    from analysis.classify.openvino_encoder import OpenVinoEncoder

    enc = SimpleNamespace(requests=[_Request() for _ in range(3)],
                          _collect=OpenVinoEncoder._collect)
    batches = [(np.array([k]), np.ones((1, 3), np.int64), np.ones((1, 3), np.int64))
               for k in range(6)]
    run = OpenVinoEncoder._run_batches(enc, batches)  # type: ignore[arg-type]
    assert next(run)[0].tolist() == [0]  # batches 0-2 were started, 0 collected
    assert sum(r.busy for r in enc.requests) == 2
    run.close()
    assert not any(r.busy for r in enc.requests)
    got = [idx.tolist() for idx, _, _ in OpenVinoEncoder._run_batches(enc, batches)]  # type: ignore[arg-type]
    assert got == [[k] for k in range(6)]
