"""The context engine in a run, on a real git repo, with the real anthropic SDK against the local
Messages API server: the shared part (AGENTS.md, the repo map) is the system prompt, identical for
every phase and read from the prompt cache by the second one; each phase prompt carries its related
files (what an earlier phase created among them); `autopack context` prints exactly the first
request; telemetry records the context tokens of each phase."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from autopack.adapters.anthropic_model import AnthropicModelClient
from autopack.adapters.git_workspace import GitWorkspace
from autopack.adapters.local_forge import LocalForge
from autopack.app.compose import RunSettings, build_executor
from autopack.cli import main
from autopack.core.spec import parse_spec
from autopack.core.telemetry import RunTelemetry
from support.messages_server import MessagesServer, Recorded, Reply, tokens
from support.ndjson import ops_text
from support.pyrepos import make_repo

AGENTS = "Money is always an int of cents. Never use float for prices." + "".join(
    f"\n- Rule {i}: amounts stay integer cents from parsing to display; round once, at the edge."
    for i in range(50)
)  # with the map, a shared prefix over the 1,024-token minimum the API caches
TAX = "".join(
    f'def rate_{i}(region: str) -> int:\n    """Tax rate {i}."""\n    return {i}\n\n\n'
    for i in range(40)
)
FILES = {
    "AGENTS.md": AGENTS + "\n",
    "src/shop/__init__.py": "",
    "src/shop/money.py": (
        "class Money:\n    cents: int = 0\n\n\ndef round_cents(value: float) -> int:\n"
        '    """Round to whole cents."""\n    return round(value)\n'
    ),
    "src/shop/tax.py": TAX,
    "src/util/shipping.py": "def ship(weight_grams: int) -> int:\n    return weight_grams // 100\n",
    "src/shop/cart.py": (
        "from shop.money import Money, round_cents\nfrom shop import tax\n\n\nclass Cart:\n"
        "    def total(self) -> Money:\n        return Money(round_cents(tax.rate_1('eu')))\n"
    ),
    "tests/test_cart.py": "from shop.cart import Cart\n\n\ndef test_cart():\n    assert Cart()\n",
}
SPEC: dict[str, Any] = {
    "goal": "Discounts for the cart",
    "phases": [
        {
            "id": "discount",
            "title": "A Discount type",
            "deliverables": [{"path": "src/shop/discount.py", "action": "create"}],
        },
        {
            "id": "apply",
            "title": "The cart applies a Discount",
            "depends_on": ["discount"],
            "deliverables": [{"path": "src/shop/cart.py"}],
        },
    ],
}
DISCOUNT = "class Discount:\n    percent: int = 0\n"
REPLIES = {
    "discount": [
        {"op": "write", "path": "src/shop/discount.py", "content": DISCOUNT},
        {"op": "done", "summary": "Added Discount."},
    ],
    "apply": [
        {"op": "edit", "path": "src/shop/cart.py", "old": "class Cart:", "new": "class Cart:  # d"},
        {"op": "done", "summary": "Cart applies discounts."},
    ],
}


def reply_for(rec: Recorded) -> Reply:
    prompt = rec.message_text(0)
    phase = "apply" if "# Phase `apply`" in prompt else "discount"
    return Reply(text=ops_text(REPLIES[phase]))


def system_text(rec: Recorded) -> str:
    return "".join(block["text"] for block in rec.body["system"])


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    make_repo(tmp_path / "shop", FILES)
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    return tmp_path / "shop"


def run(repo: Path, out: Path, server: MessagesServer, telemetry: RunTelemetry) -> None:
    client = AnthropicModelClient(api_key="test", base_url=server.base_url, max_retries=0)
    executor = build_executor(
        parse_spec(SPEC),
        GitWorkspace(repo),
        client,
        LocalForge(out),
        RunSettings(run_id="ctx", instructions="Keep functions short.").executor_config(),
        telemetry=telemetry,
    )
    state = executor.run()
    client.client.close()  # its keep-alive socket, not left to the garbage collector
    assert state.succeeded, [(p.id, p.status, p.reason) for p in state.phases]


def test_the_second_phase_reads_the_shared_context_from_the_cache(
    shop: Path, tmp_path: Path
) -> None:
    telemetry = RunTelemetry()
    with MessagesServer(responder=reply_for) as server:
        run(shop, tmp_path / "out", server, telemetry)
    first, second = server.message_requests
    system = system_text(first)
    assert AGENTS in system and "Keep functions short." in system
    assert "# Repository map" in system
    assert "src/util/shipping.py:\n  def ship(weight_grams: int) -> int" in system
    assert system_text(second) == system  # the same shared prefix for every phase
    # A later phase shares the system prompt: both mark it; each phase answers in one request, so
    # neither marks its own phase prompt (no later read would pay for the write premium).
    for rec in (first, second):
        assert all(block["cache_control"] == {"type": "ephemeral"} for block in rec.body["system"])
        assert all("cache_control" not in m["content"][0] for m in rec.messages)

    one, two = (p.requests[0].usage for p in telemetry.phases)
    assert one.cache_read_input_tokens == 0 and one.cache_creation_input_tokens == tokens(system)
    assert two.cache_read_input_tokens == tokens(system) > 1024  # the whole shared part
    assert two.cache_creation_input_tokens == 0  # its own phase prompt is not written

    prompt = second.message_text(0)
    assert '<related path="src/shop/discount.py" view="whole" why="earlier phase' in prompt
    assert DISCOUNT in prompt  # the file the first phase created
    assert "def round_cents(value: float) -> int:" in prompt  # what cart.py imports
    assert "def rate_1(region: str) -> int" in prompt  # `tax.rate_1`, as a signature
    assert "return round(value)" in prompt or "Round to whole cents" in prompt

    for phase in telemetry.phases:
        sections = phase.context_tokens
        assert sections["system"] == pytest.approx(len(system) / 3.6, abs=1)
        assert sections["repo_map"] > 0 and sections["instructions"] > 0
        assert sections["prompt"] > 0
    assert telemetry.phases[1].context_tokens["related"] > 0
    saved = json.loads((tmp_path / "out" / "telemetry.json").read_text(encoding="utf-8"))
    assert saved["phases"][1]["context_tokens"]["related"] > 0


def test_autopack_context_prints_exactly_the_first_request(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = str(tmp_path / "spec.yaml")
    args = [
        "context",
        "--repo",
        str(shop),
        "--spec",
        spec,
        "--instructions",
        "Keep functions short.",
    ]
    assert main(args) == 0
    printed = capsys.readouterr()
    with MessagesServer(responder=reply_for) as server:
        run(shop, tmp_path / "out", server, RunTelemetry())
    first = server.message_requests[0]
    assert first.message_text(0).endswith("\n")
    assert printed.out == f"{system_text(first)}\n-----\n{first.message_text(0)}"
    summary = printed.err.strip().splitlines()
    assert len(summary) == 1 and summary[0].startswith("context of phase discount: system ")
    assert "repo map" in summary[0] and "related" in summary[0]

    assert main(["context", "--repo", str(shop), "--spec", spec, "--phase", "apply"]) == 0
    out = capsys.readouterr().out
    system, _, prompt = out.partition("\n-----\n")
    assert AGENTS in system and "Keep functions short." not in system
    assert "# Phase `apply`" in prompt and '<file path="src/shop/cart.py">' in prompt
    assert main(["context", "--repo", str(shop), "--spec", spec, "--phase", "nope"]) == 1
    assert "no phase 'nope'" in capsys.readouterr().err


def test_instructions_from_the_spec_and_a_budget_of_zero(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "spec2.yaml"
    spec.write_text(
        yaml.safe_dump({**SPEC, "instructions": "Prefer dataclasses.", "context_budget": 0}),
        encoding="utf-8",
    )
    assert main(["context", "--repo", str(shop), "--spec", str(spec), "--phase", "apply"]) == 0
    out = capsys.readouterr().out
    system, _, prompt = out.partition("\n-----\n")
    assert "Prefer dataclasses." in system  # a setting's instructions stay
    assert "# Repository map" not in system and AGENTS not in system  # the engine is off
    assert "<related" not in prompt and '<file path="src/shop/cart.py">' in prompt
    assert (
        main(["context", "--repo", str(shop), "--spec", str(spec), "--context-budget", "3000"]) == 0
    )
    assert "# Repository map" in capsys.readouterr().out  # the flag beats the spec


def test_autopack_run_takes_instructions_from_a_file(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("Name every test after the behaviour it checks.\n", encoding="utf-8")
    with MessagesServer(responder=reply_for) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        code = main(
            ["run", "--repo", str(shop), "--spec", str(tmp_path / "spec.yaml"), "--no-tests",
             "--out", str(tmp_path / "out"), "--instructions", f"@{notes}"]
        )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    systems = {system_text(r) for r in server.message_requests}
    assert len(systems) == 1 and "Name every test after the behaviour" in systems.pop()
    assert main(["run", "--repo", str(shop), "--spec", "x.yaml", "--instructions", "@nope"]) == 1
    assert "cannot read --instructions @nope" in capsys.readouterr().err
