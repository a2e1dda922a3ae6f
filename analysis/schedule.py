"""Scheduled runs: the cron line or systemd service + timer that runs ``reviewgap run``.

Stage: operations. In: a cadence (monthly, weekly, daily), a time of day, a day, the config's
absolute path, the venv's ``reviewgap`` executable and the workspace. Out: text (a crontab
line; a ``.service`` and a ``.timer`` unit) and, on request, its installation: the user's
crontab through ``crontab -`` or unit files under ``~/.config/systemd/user`` enabled with
``systemctl --user``. Install targets (the crontab command, the unit folder, the systemctl
command) are parameters, so tests never touch the real ones.

The scheduled command is ``<venv>/bin/reviewgap run --config <abs> --log-file
<workspace>/logs/run-{yyyymm}.log``: ``reviewgap run`` expands ``{yyyymm}`` itself, so neither
cron's ``%`` nor systemd's ``%``/``$`` escaping is involved. Its exit code (0 ok, 1 a stage
failed, 2 configuration) is what cron mails about and what systemd records as the unit's result.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, cast

import attrs

Cadence = Literal["monthly", "weekly", "daily"]
CADENCES: tuple[str, ...] = ("monthly", "weekly", "daily")
WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CRON_MARK = "# reviewgap:"
"""Suffix that tags our crontab line (with the config path) so a re-install replaces it."""
UNIT_NAME = "reviewgap"


class ScheduleError(ValueError):
    """A bad schedule option; the message names it."""


@attrs.define(frozen=True)
class Schedule:
    """When to run: cadence, time of day and (monthly: day of month; weekly: ISO weekday)."""

    cadence: Cadence = "monthly"
    hour: int = 3
    minute: int = 0
    day: int = 1
    """Monthly: day of the month 1-28 (every month has it). Weekly: 1 = Monday .. 7 = Sunday."""

    @classmethod
    def parse(cls, cadence: str = "monthly", at: str = "03:00", day: int = 1) -> Schedule:
        """Validate CLI options into a schedule.

        >>> Schedule.parse("weekly", "23:05", 7)
        Schedule(cadence='weekly', hour=23, minute=5, day=7)
        """
        if cadence not in CADENCES:
            raise ScheduleError(f"--cadence: {cadence!r} is not one of {', '.join(CADENCES)}")
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", at.strip())
        if not match:
            raise ScheduleError(f"--at: {at!r} is not a time of day HH:MM (00:00-23:59)")
        if cadence == "monthly" and not 1 <= day <= 28:
            raise ScheduleError(f"--day: {day} is not a day 1-28 (every month has days 1-28)")
        if cadence == "weekly" and not 1 <= day <= 7:
            raise ScheduleError(f"--day: {day} is not a weekday 1 (Monday) .. 7 (Sunday)")
        return cls(cadence=cast(Cadence, cadence), hour=int(match.group(1)),
                   minute=int(match.group(2)), day=day)

    def cron_fields(self) -> str:
        """The five cron time fields.

        >>> Schedule("monthly", 3, 0, 1).cron_fields()
        '0 3 1 * *'
        >>> Schedule("weekly", 4, 30, 7).cron_fields()
        '30 4 * * 0'
        """
        if self.cadence == "monthly":
            return f"{self.minute} {self.hour} {self.day} * *"
        if self.cadence == "weekly":
            return f"{self.minute} {self.hour} * * {self.day % 7}"  # cron: 0 = Sunday
        return f"{self.minute} {self.hour} * * *"

    def on_calendar(self) -> str:
        """systemd's ``OnCalendar=`` expression.

        >>> Schedule("monthly", 3, 0, 15).on_calendar()
        '*-*-15 03:00:00'
        >>> Schedule("weekly", 3, 0, 1).on_calendar()
        'Mon *-*-* 03:00:00'
        """
        time = f"{self.hour:02d}:{self.minute:02d}:00"
        if self.cadence == "monthly":
            return f"*-*-{self.day:02d} {time}"
        if self.cadence == "weekly":
            return f"{WEEKDAYS[self.day - 1]} *-*-* {time}"
        return f"*-*-* {time}"


@attrs.define(frozen=True)
class RunCommand:
    """What the scheduler runs (all paths absolute)."""

    executable: Path
    """The venv's ``reviewgap`` script."""
    config: Path
    workspace: Path

    @property
    def log_file(self) -> Path:
        """The monthly log; ``{yyyymm}`` is expanded by ``reviewgap run --log-file``."""
        return self.workspace / "logs" / "run-{yyyymm}.log"

    def argv(self) -> list[str]:
        return [str(self.executable), "run", "--config", str(self.config), "--log-file",
                str(self.log_file)]


def default_executable() -> Path:
    """The ``reviewgap`` script beside this Python (the venv's ``bin/``), absolute.

    Absolute because cron and systemd start with a minimal PATH and no activated venv. The
    venv's own path is kept as is (not resolved), since its ``bin/python`` is a symlink whose
    target would run without the venv's packages.
    """
    import sys

    bindir = Path(sys.executable).parent
    script = bindir / "reviewgap"
    if not script.exists():
        raise ScheduleError(
            f"no reviewgap script beside {sys.executable}: install reviewgap into this venv "
            "(pip install -e .) or pass --executable"
        )
    return script.absolute()


def cron_line(schedule: Schedule, command: RunCommand) -> str:
    """One crontab line, tagged with the config path so re-installing replaces it.

    ``%`` is special in crontab (it starts stdin), so any in a path is escaped.
    """
    args = _cron_escape(" ".join(shlex.quote(a) for a in command.argv()))
    workdir = _cron_escape(shlex.quote(str(command.config.parent)))
    return f"{schedule.cron_fields()} cd {workdir} && {args} {cron_mark(command.config)}"


def _cron_escape(text: str) -> str:
    r"""Escape ``%`` (cron turns a bare one into a newline) for anywhere in the command field.

    >>> _cron_escape("a%b")
    'a\\%b'
    """
    return text.replace("%", r"\%")


def cron_mark(config: Path) -> str:
    """The comment that ends our line for ``config`` (escaped like the rest of the line)."""
    return _cron_escape(f"{CRON_MARK}{config}")


def _systemd_arg(arg: str) -> str:
    """Quote one ExecStart argument for systemd (``%`` specifiers and ``$`` expansion off)."""
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"' if re.search(r"[\s\"'\\;]", arg) else escaped


def _systemd_path(path: Path) -> str:
    return str(path).replace("%", "%%")


def systemd_units(schedule: Schedule, command: RunCommand, *, name: str = UNIT_NAME
                  ) -> dict[str, str]:
    """``{"<name>.service": text, "<name>.timer": text}`` for a user systemd instance."""
    exec_start = " ".join(_systemd_arg(a) for a in command.argv())
    service = f"""\
[Unit]
Description=reviewgap scheduled run ({_systemd_path(command.config)})
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
WorkingDirectory={_systemd_path(command.config.parent)}
ExecStart={exec_start}
# Exit codes: 0 ok, 1 a stage failed (a report from what was collected is still written),
# 2 configuration error. Anything but 0 marks the unit failed (systemctl --user status).
Nice=10
"""
    timer = f"""\
[Unit]
Description=reviewgap {schedule.cadence} run ({_systemd_path(command.config)})

[Timer]
OnCalendar={schedule.on_calendar()}
# Run at next boot when the machine was off at the scheduled time.
Persistent=true
Unit={name}.service

[Install]
WantedBy=timers.target
"""
    return {f"{name}.service": service, f"{name}.timer": timer}


Runner = Callable[..., subprocess.CompletedProcess[str]]


def _run(argv: Sequence[str], *, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), input=input, capture_output=True, text=True, check=False)


def install_cron(
    line: str,
    config: Path,
    *,
    crontab: Sequence[str] = ("crontab",),
    run: Runner | None = None,
) -> str:
    """Add ``line`` to the user's crontab, replacing an earlier line for the same config.

    Args:
        line: from :func:`cron_line`.
        config: the config path the line is tagged with.
        crontab: the crontab command (tests pass a fake).
        run: how to run it (``subprocess.run``-like; default: really run it).

    Returns:
        The new crontab text.

    Raises:
        ScheduleError: crontab is missing or refused the new table.
    """
    run = run or _run
    try:
        current = run([*crontab, "-l"])
    except FileNotFoundError as exc:
        raise ScheduleError(f"cannot run {crontab[0]!r}: {exc} (install cron, or use --systemd)"
                            ) from None
    # `crontab -l` exits 1 with "no crontab for <user>" when the user has none yet.
    existing = current.stdout if current.returncode == 0 else ""
    mark = cron_mark(config)
    kept = [ln for ln in existing.splitlines() if not ln.rstrip().endswith(mark)]
    table = "\n".join([*kept, line]) + "\n"
    done = run([*crontab, "-"], input=table)
    if done.returncode != 0:
        raise ScheduleError(f"crontab refused the new table: {done.stderr.strip()}")
    return table


def install_systemd(
    units: dict[str, str],
    *,
    unit_dir: Path | None = None,
    systemctl: Sequence[str] = ("systemctl", "--user"),
    run: Runner | None = None,
    name: str = UNIT_NAME,
) -> list[Path]:
    """Write the unit files and enable the timer (``daemon-reload``, ``enable --now``).

    Args:
        units: from :func:`systemd_units`.
        unit_dir: default ``~/.config/systemd/user``.
        systemctl: the systemctl command (tests pass a fake).
        run: how to run it.
        name: the unit name.

    Returns:
        The paths written.

    Raises:
        ScheduleError: systemctl is missing or failed (the files stay written).
    """
    run = run or _run
    folder = unit_dir or Path.home() / ".config" / "systemd" / "user"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in units.items():
        path = folder / filename
        path.write_text(text, "utf-8")
        written.append(path)
    for argv in ([*systemctl, "daemon-reload"], [*systemctl, "enable", "--now", f"{name}.timer"]):
        try:
            done = run(argv)
        except FileNotFoundError as exc:
            raise ScheduleError(f"cannot run {argv[0]!r}: {exc}; units written to {folder}"
                                ) from None
        if done.returncode != 0:
            raise ScheduleError(f"{' '.join(argv)} failed: {done.stderr.strip()} "
                                f"(units written to {folder})")
    return written
