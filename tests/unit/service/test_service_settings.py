"""Settings, the bind check and the `serve` command's refusal to listen openly without a token."""

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from facecraft.cli.serve_cli import register
from facecraft.service.errors import BindError
from facecraft.service.settings import ServiceSettings, check_bind, is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_hosts_need_no_token(host: str) -> None:
    assert is_loopback(host)
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "example.org", ""])
def test_other_hosts_refuse_to_start_without_a_token(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(BindError, match="--token"):
        check_bind(host, None)
    with pytest.raises(BindError):
        check_bind(host, "")
    check_bind(host, "s3cret-token")


def test_settings_validate_and_name_their_folders(tmp_path: Path) -> None:
    settings = ServiceSettings(data_dir=tmp_path)
    assert settings.db_path == tmp_path / "jobs.sqlite3"
    assert settings.uploads_dir.parent == settings.jobs_dir.parent == tmp_path
    assert settings.max_upload_bytes == 1024**3 and settings.max_queued == 16
    with pytest.raises(ValueError, match="workers"):
        ServiceSettings(data_dir=tmp_path, workers=0)
    with pytest.raises(ValueError, match="token"):
        ServiceSettings(data_dir=tmp_path, token="   ")


def test_serve_command_refuses_an_open_bind_without_token(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("noop")(lambda: None)  # a second command keeps `serve` a named subcommand
    register(app)
    result = CliRunner().invoke(
        app, ["serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)], env={"FACECRAFT_TOKEN": ""}
    )
    assert result.exit_code == 2
    assert "refusing to listen on '0.0.0.0' without a token" in result.output
    assert not (tmp_path / "jobs.sqlite3").exists()
