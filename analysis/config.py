"""reviewgap.toml: load and validate the project configuration.

In: a path to a TOML file. Out: a :class:`ProjectConfig` (pydantic, strict: an unknown key, a
wrong type, an unknown source or a duplicate product key is a :class:`ConfigError` whose message
names the file and the key). Source tables (``[products.<spider name>]``) are validated against
that spider's own ``Params`` model, so the config and ``scrapy crawl -a`` accept the same keys.

TOML, not YAML: YAML 1.1 reads the storefront code ``no`` (Norway) as ``false``.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pydantic

SOURCES: tuple[str, ...] = ("apple_app_store", "google_play", "trustpilot", "schema_org")
"""Source names: each is a spider name and a product sub-table."""

_KEY_RE = r"^[a-z0-9][a-z0-9_\-]*$"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file and the key."""

    def __init__(self, path: Path | str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = Path(path)
        self.message = message


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProjectSection(_Strict):
    """``[project]``: name, workspace and crawl-wide options."""

    name: str = "Market-gap report"
    workspace: str = "data"
    """Folder for the store, raw crawl files, logs and reports; relative to the config file."""
    since: date | None = None
    """Ignore reviews published before this date."""
    contact: str = ""
    """Put into the crawler's User-Agent so site owners can reach you (e-mail or URL)."""
    templates: str | None = None
    """A folder whose templates/CSS override the shipped ones (branding); relative to the config."""


class NeedDef(_Strict):
    """A user-defined need, added to the default taxonomy."""

    id: str = pydantic.Field(pattern=_KEY_RE)
    label: str
    description: str = ""
    examples: list[str] = pydantic.Field(default_factory=list)


class NeedsSection(_Strict):
    """``[needs]``: changes to the default needs taxonomy."""

    disable: list[str] = pydantic.Field(default_factory=list)
    """Default need ids to leave out."""
    rename: dict[str, str] = pydantic.Field(default_factory=dict)
    """Default need id -> label shown in the report."""
    custom: list[NeedDef] = pydantic.Field(default_factory=list)
    """Needs of your own (``[[needs.custom]]``): id, label, description, example sentences."""


class ClassificationSection(_Strict):
    """``[classification]``: models and thresholds."""

    encoder: str | None = None
    """Sentence encoder: Hugging Face id or local folder; default: bundled all-MiniLM-L6-v2."""
    sentiment_model: str | None = None
    """A Hugging Face ``text-classification`` model (id or folder) replacing our sentiment head."""
    needs_model: str | None = None
    """Optional zero-shot NLI model (id or folder) replacing our needs head."""
    need_threshold: float | None = pydantic.Field(default=None, ge=0.0, le=1.0)
    """Score at which a need counts as mentioned; default: the one the heads were fitted with
    (their manifest's ``need_threshold``; 0.5 for the shipped English heads, 0.6 for the
    multilingual ones, English 0.75), 0.5 with a zero-shot ``needs_model``."""
    batch_size: int = pydantic.Field(default=32, ge=1, le=1024)
    """Texts a batch through the encoder; with ``openvino``, batches of about ``batch_size`` x 32
    tokens (:mod:`analysis.classify.batch_plan`)."""
    threads: int = pydantic.Field(default=0, ge=0)
    """Torch threads; 0 = all cores."""
    onnx: bool = False
    """Use the ONNX Runtime int8 encoder (faster; agreement measured in bench/)."""
    openvino: bool = False
    """Use the OpenVINO static int8 encoder (the fastest path on Intel and AMD CPUs, closer to
    fp32 than ``onnx``; needs ``pip install 'reviewgap[openvino]'``; agreement measured in
    bench/). Not together with ``onnx``."""
    aspect_clauses: bool = True
    """Read a sentence that turns ("nice design, but it crashes") clause by clause for its needs
    and their sentiment (about 15-25 % more classify time); false: whole sentences."""
    requests: Literal["learned", "asked"] = "learned"
    """What counts as a feature request. ``learned``: the heads' answer, in the convention of the
    reviews they learned from (any wish for a change, including a complaint that a feature was
    removed). ``asked``: only where an English review's (or sentence's) wording asks or wishes
    for something (:mod:`analysis.classify.requests`; "please fix" does not count)."""
    languages: list[str] = pydantic.Field(default_factory=lambda: ["en"])
    """Languages the encoder handles; reviews in others are counted as not classified."""
    heads: str | None = None
    """Folder of heads fitted by ``reviewgap train``; default: the heads shipped in the package."""

    @pydantic.model_validator(mode="after")
    def _one_fast_path(self) -> ClassificationSection:
        if self.onnx and self.openvino:
            raise ValueError("onnx and openvino are both true; choose one fast path")
        return self

    @property
    def runtime(self) -> str:
        """What runs the encoder: ``openvino``, ``onnx`` or ``torch`` (fp32), from the two
        switches (at most one is on)."""
        return "openvino" if self.openvino else "onnx" if self.onnx else "torch"


class ReportSection(_Strict):
    """``[report]``: what the report shows."""

    title: str | None = None
    min_sample: int = pydantic.Field(default=30, ge=1)
    """Cells with fewer reviews are greyed, show their n, and are never ranked."""
    top_quotes: int = pydantic.Field(default=3, ge=0, le=20)
    months: int = pydantic.Field(default=12, ge=1, le=120)
    """Months of reviews the report covers (ending at the newest review)."""
    alpha: float = pydantic.Field(default=0.05, gt=0.0, lt=0.5)
    """Significance level for gaps and changes (after multiple-comparison correction)."""


class AlertsSection(_Strict):
    """``[alerts]``: optional digest after each run. SMTP server and credentials come from the
    environment (REVIEWGAP_SMTP_HOST, _PORT, _USER, _PASSWORD, _FROM), never from this file."""

    webhook_url: str | None = None
    email_to: list[str] = pydantic.Field(default_factory=list)


class RetentionSection(_Strict):
    """``[retention]``: how long raw crawl files are kept (reviews and labels are kept)."""

    raw_days: int = pydantic.Field(default=180, ge=1)


class CrawlSection(_Strict):
    """``[crawl]``: Scrapy settings applied to every crawl (``-s`` on the CLI wins)."""

    settings: dict[str, Any] = pydantic.Field(default_factory=dict)


class ProductConfig(pydantic.BaseModel):
    """``[[products]]``: one product; each source is a sub-table named after its spider."""

    model_config = pydantic.ConfigDict(extra="forbid", str_strip_whitespace=True)

    key: str = pydantic.Field(pattern=_KEY_RE)
    name: str
    ours: bool = False
    aliases: list[str] = pydantic.Field(default_factory=list)
    """Other names customers use for it (for switching signals)."""
    apple_app_store: dict[str, Any] | None = None
    google_play: dict[str, Any] | None = None
    trustpilot: dict[str, Any] | None = None
    schema_org: dict[str, Any] | None = None

    def sources(self) -> dict[str, dict[str, Any]]:
        """Source name -> its table, for the sources this product has."""
        return {s: getattr(self, s) for s in SOURCES if getattr(self, s) is not None}


class ProjectConfig(_Strict):
    """The whole reviewgap.toml."""

    project: ProjectSection = pydantic.Field(default_factory=ProjectSection)
    products: list[ProductConfig] = pydantic.Field(min_length=1)
    needs: NeedsSection = pydantic.Field(default_factory=NeedsSection)
    classification: ClassificationSection = pydantic.Field(default_factory=ClassificationSection)
    report: ReportSection = pydantic.Field(default_factory=ReportSection)
    alerts: AlertsSection = pydantic.Field(default_factory=AlertsSection)
    retention: RetentionSection = pydantic.Field(default_factory=RetentionSection)
    crawl: CrawlSection = pydantic.Field(default_factory=CrawlSection)

    path: Path | None = pydantic.Field(default=None, exclude=True)
    """The file this was read from (set by :func:`load_config`)."""

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    @property
    def workspace(self) -> Path:
        return (self.base_dir / self.project.workspace).resolve()

    def product_names(self) -> dict[str, list[str]]:
        """Product key -> its display name and aliases (how reviews name each product)."""
        return {p.key: [p.name, *p.aliases] for p in self.products}

    @property
    def ours(self) -> ProductConfig | None:
        return next((p for p in self.products if p.ours), None)

    def product(self, key: str) -> ProductConfig:
        for p in self.products:
            if p.key == key:
                return p
        raise KeyError(key)

    @property
    def title(self) -> str:
        return self.report.title or self.project.name


def _loc(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """A pydantic error location as a TOML key path, e.g. ``products[1].apple_app_store.app_id``."""
    out = ""
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            # Name the product by key where possible: easier to find in the file.
            if isinstance(node, list) and part < len(node) and isinstance(node[part], dict):
                key = node[part].get("key")
                if key:
                    out += f" (key {key!r})"
        else:
            out += ("." if out else "") + str(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    return out


def _source_params_model(source: str) -> type[pydantic.BaseModel] | None:
    """The spider's Params model for a source, or None when that spider is not installed."""
    import importlib

    try:
        module = importlib.import_module(f"spiders.sources.{source}")
    except ModuleNotFoundError:
        return None
    for obj in vars(module).values():
        is_spider = isinstance(obj, type) and getattr(obj, "name", None) == source
        if is_spider and hasattr(obj, "Params"):
            return obj.Params  # type: ignore[no-any-return]
    return None


def validate_config(data: dict[str, Any], path: Path | str) -> ProjectConfig:
    """Validate parsed TOML; raise :class:`ConfigError` naming the first bad key."""
    products = data.get("products")
    if isinstance(products, list):
        for i, prod in enumerate(products):
            if not isinstance(prod, dict):
                continue
            for k, v in prod.items():
                if isinstance(v, dict) and k not in SOURCES:
                    raise ConfigError(
                        path,
                        f"products[{i}].{k}: unknown source {k!r} "
                        f"(known sources: {', '.join(SOURCES)})",
                    )
    try:
        cfg = ProjectConfig.model_validate(data)
    except pydantic.ValidationError as exc:
        err = exc.errors()[0]
        where = _loc(tuple(err["loc"]), data)
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
        raise ConfigError(path, f"{where}: {msg}{more}") from None
    seen: set[str] = set()
    for i, prod in enumerate(cfg.products):
        if prod.key in seen:
            raise ConfigError(path, f"products[{i}].key: duplicate product key {prod.key!r}")
        seen.add(prod.key)
    if sum(p.ours for p in cfg.products) > 1:
        raise ConfigError(path, "products[].ours: at most one product may be marked ours = true")
    for i, prod in enumerate(cfg.products):
        for source, table in prod.sources().items():
            model = _source_params_model(source)
            if model is None:
                raise ConfigError(
                    path, f"products[{i}].{source}: source {source!r} is not installed"
                )
            try:
                model.model_validate({**table, "product": prod.key})
            except pydantic.ValidationError as exc:
                err = exc.errors()[0]
                key = ".".join(str(p) for p in err["loc"])
                msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
                raise ConfigError(
                    path, f"products[{i}] (key {prod.key!r}).{source}.{key}: {msg}"
                ) from None
    _check_needs(cfg, path)
    return cfg


def _check_needs(cfg: ProjectConfig, path: Path | str) -> None:
    ids = [n.id for n in cfg.needs.custom]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ConfigError(path, f"needs.custom: duplicate need id {sorted(dupes)[0]!r}")
    try:
        from analysis.classify.taxonomy import DEFAULT_NEEDS
    except ImportError:  # pragma: no cover - the taxonomy module ships with the package
        return
    known = {n.id for n in DEFAULT_NEEDS}
    for key in ("disable", "rename"):
        for need_id in getattr(cfg.needs, key):
            if need_id not in known:
                raise ConfigError(
                    path,
                    f"needs.{key}: {need_id!r} is not a default need id "
                    f"(default ids: {', '.join(sorted(known))})",
                )
    clash = set(ids) & (known - set(cfg.needs.disable))
    if clash:
        raise ConfigError(
            path, f"needs.custom: id {sorted(clash)[0]!r} is a default need; disable it first"
        )


def load_config(path: Path | str) -> ProjectConfig:
    """Read and validate a reviewgap.toml; raise :class:`ConfigError` on any problem."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(p, "file not found (create one with `reviewgap init`)")
    try:
        data = tomllib.loads(p.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(p, f"not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(p, f"not UTF-8 text: {exc}") from None
    cfg = validate_config(data, p)
    cfg.path = p.resolve()
    return cfg


def slug(text: str) -> str:
    """A file-name-safe slug.

    >>> slug("Acme Notes vs. rivals!")
    'acme-notes-vs-rivals'
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "report"

