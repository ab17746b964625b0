"""The population plot of a Population Based Training study and the schedule table under it, on a hand-built
population (pbt_history.py): member lanes, segments from checkpoint to last report, exploit arrows, the best
result's ancestry outlined; served (page, API, CLI) only for studies with ``scheduler: pbt``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from agent.core.records import Trial, TrialState
from agent.faces import plots, population, svgplot_population
from agent.faces.catalog import SpecCatalog
from agent.faces.handle import StudyHandle
from agent.faces.lineage import ancestry
from agent.faces.svg import ramp
from agent.faces.web.app import create_app
from agent.study.store.memory import MemoryStore
from tests.agent.faces.conftest import Runner, small_spec
from tests.agent.faces.pbt_history import BEST, build_population, pbt_study
from tests.agent.faces.test_plots import NS, parse, text_of

TOKEN = "t0ken-for-tests"
AUTH = {"X-Tunesmith-Token": TOKEN}


@pytest.fixture
def history() -> tuple[list[Trial], MemoryStore]:
    store = MemoryStore()
    return build_population(store), store


def data_of(history: tuple[list[Trial], MemoryStore]) -> dict[str, Any]:
    trials, store = history
    return population.population_data(trials, store.metrics, metric="score", direction="maximize")


def classes(e: Any) -> list[str]:
    return (e.get("class") or "").split()


# ------------------------------------------------------------------------------------------------ data
def test_segments_span_from_their_checkpoint_to_their_last_report_on_member_lanes(
    history: tuple[list[Trial], MemoryStore],
) -> None:
    data = data_of(history)
    assert data["members"] == [0, 1, 2, 3] and data["last_step"] == 8
    assert data["rows"] == {0: 1, 1: 2, 2: 1, 3: 1}  # #3 starts at step 4, before #1's last report (5)
    spans = {s["trial"]: (s["member"], s["row"], s["start"], s["end"]) for s in data["segments"]}
    assert spans == {
        0: (0, 0, 0, 4),
        1: (1, 0, 0, 5),
        2: (2, 0, 0, 6),
        3: (1, 1, 4, 8),
        4: (0, 0, 4, 8),
        5: (2, 0, 6, 8),
        6: (3, 0, 0, 4),
        7: (3, 0, 4, 8),
    }
    by_trial = {s["trial"]: s for s in data["segments"]}
    assert by_trial[3]["value"] == 9 and by_trial[3]["began"] == "exploit #0@4 (member 0): lr * 1.2"
    assert by_trial[1]["ended"] == "exploit" and by_trial[0]["ended"] == "pause"


def test_links_join_each_checkpoint_to_its_loader_and_the_best_ancestry_is_marked(
    history: tuple[list[Trial], MemoryStore],
) -> None:
    trials, _ = history
    data = data_of(history)
    links = {
        (ln["parent"], ln["trial"]): (ln["parent_member"], ln["member"], ln["step"], ln["kind"], ln["ancestry"])
        for ln in data["links"]
    }
    assert links == {
        (0, 3): (0, 1, 4, "exploit", True),
        (0, 4): (0, 0, 4, "continue", False),
        (3, 5): (1, 2, 6, "exploit", True),
        (2, 7): (2, 3, 4, "exploit", False),
    }
    assert data["best"] == {"trial": BEST, "member": 2, "row": 0, "value": 10, "end": 8}
    paths = {s["trial"]: s["path"] for s in data["segments"] if s["path"] is not None}
    assert paths == {0: (0, 4), 3: (4, 6), 5: (6, 8)}  # #3 reported up to 8; #5 took its checkpoint at 6
    assert set(paths) == {t.number for t in ancestry(trials[BEST], trials)}


def test_the_schedule_names_the_params_that_changed_at_each_step(history: tuple[list[Trial], MemoryStore]) -> None:
    trials, store = history
    out = population.schedule_rows(trials, store.metrics, metric="score", direction="maximize", mutable=["lr"])
    assert out["best"] == {"trial": BEST, "member": 2, "value": 10} and out["params"] == ["lr"]
    rows = [(r["first"], r["last"], r["trial"], r["member"], r["changed"]) for r in out["rows"]]
    assert rows == [(1, 4, 0, 0, []), (5, 6, 3, 1, ["lr"]), (7, 8, 5, 2, ["lr"])]
    assert [r["params"]["lr"] for r in out["rows"]] == [0.01, 0.012, 0.0096]
    assert [r["how"] for r in out["rows"]] == [
        "start",
        "exploit #0@4 (member 0): lr * 1.2",
        "exploit #3@6 (member 1): lr * 0.8",
    ]
    assert population.schedule_rows(trials, store.metrics, metric="score", direction="maximize")["params"] == ["lr"]


def test_a_study_without_a_population_gives_no_lanes_and_no_schedule() -> None:
    plain = [Trial(number=0, params={"x": 1}, state=TrialState.COMPLETE, value=1.0)]
    data = population.population_data(plain, lambda n: [], metric="y", direction="maximize")
    assert data["members"] == [] and data["segments"] == [] and data["links"] == [] and data["best"] is None
    assert population.schedule_rows(plain, lambda n: [], metric="y", direction="maximize") == {
        "best": None,
        "params": [],
        "rows": [],
    }
    root = parse(svgplot_population.population_svg(data, "y", "maximize"))
    assert "no member of the population has started yet" in text_of(root)


# ------------------------------------------------------------------------------------------------- svg
def test_the_svg_draws_segments_exploit_arrows_and_outlines_the_best_ancestry(
    history: tuple[list[Trial], MemoryStore],
) -> None:
    root = parse(svgplot_population.population_svg(data_of(history), "score", "maximize"))
    assert root.get("aria-label") == "population: score by member and training step"
    segments = [e for e in root.iter() if "segment" in classes(e)]
    assert sorted(int(e.get("data-trial") or -1) for e in segments) == list(range(8))
    tips = {e.get("data-trial"): (e.find(f"{NS}title").text or "") for e in segments}  # type: ignore[union-attr]
    assert tips["3"] == (
        "trial #3, member 1, steps 4–8, lr=0.012 width=1, score=9 (exploit #0@4 (member 0): lr * 1.2; complete)"
    )
    assert tips["1"].startswith("trial #1, member 1, steps 0–5, lr=0.1 width=2, score=2.5 (start; exploit)")
    strokes = {e.get("data-trial"): e.get("stroke") for e in segments}
    assert strokes[str(BEST)] == ramp(1.0) and strokes["6"] == ramp(0.0)  # coloured by value, orange is better
    links = {e.get("data-trial"): e for e in root.iter(f"{NS}g") if "link" in classes(e)}
    assert set(links) == {"3", "5", "7"}  # #4 continues its own member's row: the lane shows it, no arrow
    assert {n for n, e in links.items() if "ancestry" in classes(e)} == {"3", "5"}
    assert links["7"].find(f"{NS}line").get("stroke-dasharray") == "3 2"  # type: ignore[union-attr]
    assert "member 2's checkpoint of trial #2 at step 4" in (links["7"].findtext(f"{NS}title") or "")
    outlined = [e for e in root.iter(f"{NS}line") if classes(e) == ["ancestry"]]
    assert len(outlined) == 3
    best = root.find(f".//{NS}circle[@class='best']")
    assert best is not None and best.get("data-trial") == str(BEST)
    words = text_of(root)
    assert "member 3" in words and "4 members, 8 segments, 3 exploits" in words
    flipped = parse(svgplot_population.population_svg(data_of(history), "score", "minimize"))
    assert {e.get("data-trial"): e.get("stroke") for e in flipped.iter() if "segment" in classes(e)}["6"] == ramp(1.0)


@pytest.mark.parametrize("width", [360, 640, 900])
def test_the_population_plot_is_laid_out_for_the_width_asked(
    history: tuple[list[Trial], MemoryStore], width: int
) -> None:
    root = parse(
        svgplot_population.population_svg(data_of(history), "a rather long metric name", "maximize", width=width)
    )
    assert (root.get("viewBox") or "").split()[2] == str(width)
    for e in root.iter(f"{NS}text"):  # every label starts inside the drawing
        assert -1 <= float(e.get("x") or 0) <= width + 1, e.text
    for e in root.iter():
        for attr in ("x", "x1", "x2", "cx"):
            if e.tag != f"{NS}text" and e.get(attr) is not None:
                assert -1 <= float(e.get(attr) or 0) <= width + 1, e.attrib


# ---------------------------------------------------------------------------------------------- served
@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "studies"
    pbt = pbt_study(root)
    plain = root / "plain"
    from agent.study.session import Session

    Session.create(small_spec(budget={"max_trials": 3}), plain).close()
    Runner(plain).start().join()
    return {"root": root, "pbt": pbt, "plain": plain}


@pytest.fixture
def client(world: dict[str, Path]) -> Iterator[TestClient]:
    with TestClient(create_app(world["root"], TOKEN, catalog=SpecCatalog([])), base_url="http://127.0.0.1") as c:
        yield c


def test_only_a_pbt_study_has_the_population_plot_and_schedule(client: TestClient, world: dict[str, Path]) -> None:
    info = client.get("/api/info", headers=AUTH).json()
    assert info["plots"][-1] == "population" and info["pbt_plots"] == ["population"]
    pbt = client.get("/api/studies/pbt-demo", headers=AUTH).json()
    plain = client.get("/api/studies/plain", headers=AUTH).json()
    assert pbt["plots"] == [*plots.KINDS, "population"] and plain["plots"] == list(plots.KINDS)

    res = client.get("/api/studies/pbt-demo/plots/population?width=390", headers=AUTH)
    assert res.status_code == 200 and res.headers["content-type"].startswith("image/svg+xml")
    root = parse(res.text)
    assert (root.get("viewBox") or "").split()[2] == "390" and len(root.findall(f".//{NS}line[@data-trial]")) == 8
    schedule = client.get("/api/studies/pbt-demo/population", headers=AUTH).json()
    assert schedule["metric"] == "score" and [r["trial"] for r in schedule["rows"]] == [0, 3, BEST]

    refused = client.get("/api/studies/plain/plots/population", headers=AUTH)
    assert refused.status_code == 400 and "scheduler: pbt" in refused.json()["detail"]
    assert client.get("/api/studies/plain/population", headers=AUTH).status_code == 400
    h = StudyHandle(world["plain"], source="cli")
    try:
        with pytest.raises(plots.PlotError, match="no population"):
            plots.render(h, "population")
    finally:
        h.close()


def test_plot_all_writes_the_population_only_for_a_pbt_study(world: dict[str, Path]) -> None:
    from agent.faces.cli.app import app

    for name, has in (("pbt", True), ("plain", False)):
        done = CliRunner().invoke(app, ["plot", str(world[name]), "all"])
        assert done.exit_code == 0, done.output
        assert (world[name] / "plots" / "population.svg").exists() is has
        assert (world[name] / "plots" / "history.svg").exists()
    one = CliRunner().invoke(app, ["plot", str(world["plain"]), "population"])
    assert one.exit_code != 0 and "scheduler: pbt" in one.output
