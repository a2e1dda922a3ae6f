"""Schedule generation: cron lines and systemd units, their install, and the CLI around them."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from analysis.cli import cli
from analysis.schedule import (
    CRON_MARK,
    RunCommand,
    Schedule,
    ScheduleError,
    cron_line,
    install_cron,
    install_systemd,
    systemd_units,
)

CONFIG = """\
[project]
workspace = "ws"

[[products]]
key = "acme"
name = "Acme"
"""


def _fake_executable(folder: Path) -> Path:
    """A ``reviewgap`` stand-in that writes its argv (one per line) to ``argv.txt``."""
    exe = folder / "bin" / "reviewgap"
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_text(f"#!{sys.executable}\nimport sys, pathlib\n"
                   f"pathlib.Path({str(folder / 'argv.txt')!r}).write_text("
                   "'\\n'.join(sys.argv[1:]))\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


@pytest.mark.parametrize(
    ("cadence", "at", "day", "fields", "calendar"),
    [
        ("monthly", "03:00", 1, "0 3 1 * *", "*-*-01 03:00:00"),
        ("monthly", "23:59", 28, "59 23 28 * *", "*-*-28 23:59:00"),
        ("weekly", "4:30", 1, "30 4 * * 1", "Mon *-*-* 04:30:00"),
        ("weekly", "04:30", 7, "30 4 * * 0", "Sun *-*-* 04:30:00"),
        ("daily", "00:15", 1, "15 0 * * *", "*-*-* 00:15:00"),
    ],
)
def test_cadence_to_cron_and_on_calendar(cadence: str, at: str, day: int, fields: str,
                                         calendar: str) -> None:
    schedule = Schedule.parse(cadence, at, day)
    assert schedule.cron_fields() == fields
    assert schedule.on_calendar() == calendar
    if shutil.which("systemd-analyze"):  # systemd itself agrees the expression is valid
        out = subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True,
                             text=True, check=False)
        assert out.returncode == 0, out.stderr
        assert f"Normalized form: {calendar}" in out.stdout


@pytest.mark.parametrize(
    ("cadence", "at", "day", "option"),
    [("hourly", "03:00", 1, "--cadence"), ("monthly", "24:00", 1, "--at"),
     ("monthly", "3pm", 1, "--at"), ("monthly", "03:00", 31, "--day"),
     ("weekly", "03:00", 8, "--day"), ("monthly", "03:00", 0, "--day")],
)
def test_bad_options_name_the_option(cadence: str, at: str, day: int, option: str) -> None:
    with pytest.raises(ScheduleError, match=f"^{option}:"):
        Schedule.parse(cadence, at, day)


def test_cron_line_runs_the_command_under_sh(tmp_path: Path) -> None:
    folder = tmp_path / "my 100% project"  # a space and a % (special in crontab)
    exe = _fake_executable(folder)
    cmd = RunCommand(executable=exe, config=folder / "reviewgap.toml", workspace=folder / "ws")
    line = cron_line(Schedule(), cmd)
    assert line.startswith("0 3 1 * * ")
    assert line.endswith(f"{CRON_MARK}{folder / 'reviewgap.toml'}".replace("%", r"\%"))
    assert "100%" not in line.replace(r"\%", "")  # every % escaped for cron
    # Do what cron does: take the command field, turn \% back into %, run it with sh.
    shell_cmd = line.split(" ", 5)[5].replace(r"\%", "%")
    subprocess.run(["/bin/sh", "-c", shell_cmd], check=True)
    argv = (folder / "argv.txt").read_text().splitlines()
    assert argv == ["run", "--config", str(folder / "reviewgap.toml"), "--log-file",
                    str(folder / "ws" / "logs" / "run-{yyyymm}.log")]


def test_systemd_units_content(tmp_path: Path) -> None:
    cmd = RunCommand(executable=Path("/opt/venv/bin/reviewgap"),
                     config=Path("/srv/acme 50%/reviewgap.toml"), workspace=Path("/srv/ws"))
    units = systemd_units(Schedule.parse("weekly", "02:30", 5), cmd)
    service, timer = units["reviewgap.service"], units["reviewgap.timer"]
    assert "Type=oneshot" in service
    assert ('ExecStart=/opt/venv/bin/reviewgap run --config "/srv/acme 50%%/reviewgap.toml" '
            "--log-file /srv/ws/logs/run-{yyyymm}.log") in service
    assert "WorkingDirectory=/srv/acme 50%%" in service
    assert "OnCalendar=Fri *-*-* 02:30:00" in timer
    assert "Persistent=true" in timer
    assert "Unit=reviewgap.service" in timer
    assert "WantedBy=timers.target" in timer


def test_systemd_units_verify(tmp_path: Path) -> None:
    """systemd's own parser accepts the units (skipped where systemd-analyze is absent)."""
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    exe = _fake_executable(tmp_path)
    cmd = RunCommand(executable=exe, config=tmp_path / "reviewgap.toml", workspace=tmp_path)
    paths = install_systemd(systemd_units(Schedule(), cmd), unit_dir=tmp_path / "units",
                            systemctl=("true",))
    out = subprocess.run(["systemd-analyze", "verify", "--user", *map(str, paths)],
                         capture_output=True, text=True, check=False,
                         env={**os.environ, "SYSTEMD_LOG_LEVEL": "err"})
    # verify may complain about the environment (no user manager in a container), never
    # about our syntax.
    for bad in ("Unknown key", "Invalid", "Failed to parse", "bad-setting"):
        assert bad not in out.stderr, out.stderr


class FakeRunner:
    """Records commands; plays a crontab holding ``table`` (None: the user has none)."""

    def __init__(self, table: str | None = None, fail: set[str] | None = None) -> None:
        self.table = table
        self.calls: list[tuple[list[str], str | None]] = []
        self.fail = fail or set()

    def __call__(self, argv: list[str], *, input: str | None = None
                 ) -> subprocess.CompletedProcess[str]:
        self.calls.append((list(argv), input))
        if any(word in self.fail for word in argv):
            return subprocess.CompletedProcess(argv, 1, "", "boom")
        if argv[-1] == "-l":
            if self.table is None:
                return subprocess.CompletedProcess(argv, 1, "", "no crontab for user")
            return subprocess.CompletedProcess(argv, 0, self.table, "")
        if argv[-1] == "-":
            self.table = input
        return subprocess.CompletedProcess(argv, 0, "", "")


def test_install_cron_adds_then_replaces_own_line() -> None:
    cfg = Path("/srv/acme/reviewgap.toml")
    runner = FakeRunner(table=None)
    install_cron(f"0 3 1 * * run-a {CRON_MARK}{cfg}", cfg, run=runner)
    assert runner.table == f"0 3 1 * * run-a {CRON_MARK}{cfg}\n"
    runner.table = f"MAILTO=ops@example.org\n{runner.table}5 * * * * other-job\n"
    install_cron(f"0 4 2 * * run-b {CRON_MARK}{cfg}", cfg, run=runner)
    assert runner.table == (f"MAILTO=ops@example.org\n5 * * * * other-job\n"
                            f"0 4 2 * * run-b {CRON_MARK}{cfg}\n")
    assert [c[0] for c in runner.calls][-2:] == [["crontab", "-l"], ["crontab", "-"]]


def test_install_cron_with_real_process_fake_crontab(tmp_path: Path) -> None:
    """Through subprocess for real, with a crontab stand-in that keeps its table in a file."""
    store = tmp_path / "table"
    fake = tmp_path / "crontab"
    fake.write_text(
        f"#!{sys.executable}\nimport sys, pathlib\np = pathlib.Path({str(store)!r})\n"
        "if sys.argv[1] == '-l':\n"
        "    sys.exit(1) if not p.exists() else sys.stdout.write(p.read_text())\n"
        "else:\n    p.write_text(sys.stdin.read())\n")
    fake.chmod(0o755)
    cfg = tmp_path / "reviewgap.toml"
    line = f"0 3 1 * * x {CRON_MARK}{cfg}"
    install_cron(line, cfg, crontab=(str(fake),))
    install_cron(line, cfg, crontab=(str(fake),))
    assert store.read_text() == line + "\n"


def test_install_failures_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match="crontab refused"):
        install_cron("x", Path("/c"), run=FakeRunner(table="", fail={"-"}))
    with pytest.raises(ScheduleError, match="cannot run"):
        install_cron("x", Path("/c"), crontab=(str(tmp_path / "no-such-crontab"),))
    with pytest.raises(ScheduleError, match=re.escape("enable --now reviewgap.timer failed: boom")):
        install_systemd({"reviewgap.timer": "x"}, unit_dir=tmp_path,
                        run=FakeRunner(fail={"enable"}))


def _project(tmp_path: Path) -> Path:
    cfg = tmp_path / "reviewgap.toml"
    cfg.write_text(CONFIG, "utf-8")
    return cfg


def test_cli_prints_cron_line_by_default(tmp_path: Path) -> None:
    cfg = _project(tmp_path)
    exe = _fake_executable(tmp_path)
    result = CliRunner().invoke(cli, ["schedule", "--config", str(cfg), "--executable",
                                      str(exe)])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"0 3 1 * * cd {tmp_path} && {exe} run --config {cfg} --log-file "
        f"'{tmp_path / 'ws' / 'logs' / 'run-{yyyymm}.log'}' {CRON_MARK}{cfg}\n"
    )


def test_cli_install_systemd_uses_home_and_systemctl(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _project(tmp_path)
    runner = FakeRunner()
    monkeypatch.setattr("analysis.schedule._run", runner)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(cli, ["schedule", "--config", str(cfg), "--systemd",
                                      "--cadence", "daily", "--at", "05:45", "--install",
                                      "--executable", str(_fake_executable(tmp_path))])
    assert result.exit_code == 0, result.output
    unit_dir = tmp_path / "home" / ".config" / "systemd" / "user"
    timer = (unit_dir / "reviewgap.timer").read_text()
    assert "OnCalendar=*-*-* 05:45:00" in timer
    assert "# reviewgap.timer" in result.output
    assert timer in result.output
    assert [c[0] for c in runner.calls] == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", "reviewgap.timer"],
    ]


def test_cli_install_cron_uses_crontab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _project(tmp_path)
    runner = FakeRunner(table="")
    monkeypatch.setattr("analysis.schedule._run", runner)
    result = CliRunner().invoke(cli, ["schedule", "--config", str(cfg), "--install",
                                      "--executable", str(_fake_executable(tmp_path))])
    assert result.exit_code == 0, result.output
    assert runner.table is not None
    assert runner.table.strip() == result.stdout.strip()


def test_cli_bad_option_exits_2(tmp_path: Path) -> None:
    cfg = _project(tmp_path)
    result = CliRunner().invoke(cli, ["schedule", "--config", str(cfg), "--day", "30",
                                      "--executable", "/x/reviewgap"])
    assert result.exit_code == 2
    assert "--day: 30 is not a day 1-28" in result.output


def test_default_executable_is_this_venvs_script() -> None:
    from analysis.schedule import default_executable

    exe = default_executable()
    assert exe.is_absolute()
    assert exe.name == "reviewgap"
    assert exe.parent == Path(sys.executable).parent.absolute()
