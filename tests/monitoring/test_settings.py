"""The drift rule's settings: defined once in the config, read by the flags, listed in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from forecasting.cli import build_parser
from forecasting.cli.evaluate import FLAGS, settings_from
from forecasting.config import MonitoringConfig, PipelineConfig

README = Path(__file__).resolve().parents[2] / "README.md"
BASE = ["evaluate", "--forecasts", "f", "--actuals", "a"]


def _readme_rows() -> dict[str, tuple[str, str]]:
    text = README.read_text()
    section = text[text.index("## Is my forecast still good?") :]
    section = section[: section.index("\n## ", 3)]
    return {
        m[1]: (m[2], m[3])
        for m in re.finditer(r"^\| `(\w+)` \| `(--[\w-]+)` \| ([\d.]+) \|", section, re.MULTILINE)
    }


def test_each_setting_has_one_flag_and_the_readme_lists_its_default():
    rows = _readme_rows()
    fields = MonitoringConfig.model_fields
    assert set(rows) == set(fields)
    assert {key.split(".")[1]: flag for flag, (key, _, _) in FLAGS.items()} == {
        name: flag for name, (flag, _) in rows.items()
    }
    for name, (_, default) in rows.items():
        assert float(default) == fields[name].default, name
    assert PipelineConfig().monitoring == MonitoringConfig()


@pytest.mark.parametrize("flag", list(FLAGS))
def test_a_flag_not_given_leaves_the_configs_default(flag, capsys):
    args = build_parser().parse_args(BASE)
    assert getattr(args, flag.lstrip("-").replace("-", "_")) is None
    assert settings_from(args)[0] == MonitoringConfig()
    with pytest.raises(SystemExit):
        build_parser().parse_args(["evaluate", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    key = FLAGS[flag][0]
    assert f"(default {getattr(MonitoringConfig(), key.split('.')[1])})" in shown


def test_the_settings_come_from_the_pipeline_yaml_and_flags_override(tmp_path):
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text("monitoring:\n  margin: 0.2\n  last: 8\nmlflow:\n  tracking_uri: x\n")
    base = [*BASE, "--config", str(pipeline)]
    settings, uri = settings_from(build_parser().parse_args(base))
    assert (settings.margin, settings.last, settings.min_forecasts, uri) == (0.2, 8, 3, "x")
    settings, _ = settings_from(
        build_parser().parse_args([*base, "--last", "4", "--set", "monitoring.margin=0.3"])
    )
    assert (settings.last, settings.margin) == (4, 0.3)
