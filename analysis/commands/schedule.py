"""``reviewgap schedule``: print (or install) the cron line / systemd timer for scheduled runs."""

from __future__ import annotations

from pathlib import Path

import click

from analysis.commands.common import EXIT_CONFIG, EXIT_STAGE_FAILED, config_option, load_or_exit
from analysis.schedule import CADENCES


@click.command("schedule")
@config_option
@click.option("--cadence", type=click.Choice(CADENCES), default="monthly", show_default=True,
              help="How often to run.")
@click.option("--at", "at", default="03:00", show_default=True, metavar="HH:MM",
              help="Local time of day.")
@click.option("--day", type=int, default=1, show_default=True,
              help="Monthly: day of month 1-28. Weekly: 1 = Monday .. 7 = Sunday.")
@click.option("--cron/--systemd", "use_cron", default=True, show_default=True,
              help="A crontab line, or a systemd user service + timer.")
@click.option("--install", is_flag=True,
              help="Install it: `crontab -` for cron; ~/.config/systemd/user + "
                   "`systemctl --user enable --now reviewgap.timer` for systemd.")
@click.option("--executable", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The reviewgap executable to run (default: the one of this venv).")
def command(config_path: Path, cadence: str, at: str, day: int, use_cron: bool, install: bool,
            executable: Path | None) -> None:
    """Print the crontab line or systemd units that run `reviewgap run` on a schedule.

    The scheduled command is `<venv>/bin/reviewgap run --config <absolute path> --log-file
    <workspace>/logs/run-{yyyymm}.log` (one log per month, appended). Its exit code is 0 when
    every stage succeeded, 1 when a stage failed, 2 on a configuration error; cron mails
    what the run prints to stderr (warnings and errors only), systemd marks the unit failed.

    Example:

        reviewgap schedule --cadence monthly --day 1 --at 03:00 --cron --install
    """
    from analysis.schedule import (
        RunCommand,
        Schedule,
        ScheduleError,
        cron_line,
        default_executable,
        install_cron,
        install_systemd,
        systemd_units,
    )

    cfg = load_or_exit(config_path)
    try:
        schedule = Schedule.parse(cadence, at, day)
        exe = executable.absolute() if executable else default_executable()
    except ScheduleError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from None
    assert cfg.path is not None  # load_config sets it
    command_ = RunCommand(executable=exe, config=cfg.path, workspace=cfg.workspace)
    try:
        if use_cron:
            line = cron_line(schedule, command_)
            click.echo(line)
            if install:
                install_cron(line, cfg.path)
                click.echo("installed into your crontab (see `crontab -l`)", err=True)
        else:
            units = systemd_units(schedule, command_)
            for filename, text in units.items():
                click.echo(f"# {filename}\n{text}")
            if install:
                for path in install_systemd(units):
                    click.echo(f"wrote {path}", err=True)
                click.echo("enabled: systemctl --user list-timers reviewgap.timer "
                           "(for runs while logged out: loginctl enable-linger)", err=True)
    except ScheduleError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_STAGE_FAILED) from None
