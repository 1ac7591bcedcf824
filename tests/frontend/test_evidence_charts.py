"""The evidence chart and its frame (pure: no API): layers, typed fields, the band's data,
and the words for a curve's source."""

from typing import Any

from frontend import charts, frames

FIT: dict[str, Any] = {
    "form": "saturating",
    "curve": {
        "saturating": {"base": 0.2, "max": 0.8, "half_spend": 100.0},
        "source": {
            "kind": "fit",
            "date": "2026-12-01",
            "n": 3,
            "uncertainty": {"parameters": ["base"], "covariance": [[1e-4]]},
        },
    },
    "points": [
        {"period": "2026-01", "spend": 50.0, "outcome": 0.4, "quality": 0.4},
        {"period": "2026-02", "spend": 100.0, "outcome": 0.5, "quality": 0.5},
        {"period": "2026-03", "spend": 200.0, "outcome": 0.6, "quality": 0.6},
    ],
    "band": {
        "level": 0.9,
        "draws": 4000,
        "spend": [0.0, 100.0, 200.0],
        "curve": [0.2, 0.5, 0.6],
        "low": [0.15, 0.45, 0.52],
        "high": [0.25, 0.55, 0.7],
    },
}
TOUCHPOINT = {
    "id": "hotline",
    "current_spend": 100.0,
    "curve": {"points": [[0, 0.1], [200, 0.7]]},
}


def test_the_frame_holds_band_curves_observations_and_spends() -> None:
    frame = frames.evidence(FIT, TOUCHPOINT, optimal_spend=200.0)
    by_kind = frame.groupby("kind").size().to_dict()
    assert by_kind == {
        frames.FITTED: 3,
        frames.CURRENT_CURVE: 3,
        frames.OBSERVED: 3,
        frames.CURRENT: 1,
        frames.OPTIMAL: 1,
    }
    current = frame[frame["kind"] == frames.CURRENT_CURVE]["quality"].tolist()
    assert current == [0.1, 0.4, 0.7]  # the touchpoint's own curve on the band's spends
    # the spends are marked on the fitted curve: 0.2 + 0.6 * 100 / 200 and 0.2 + 0.6 * 2 / 3
    marks = frame[frame["kind"].isin([frames.CURRENT, frames.OPTIMAL])]
    assert marks["quality"].round(6).tolist() == [0.5, 0.6]
    without = frames.evidence(FIT, TOUCHPOINT, optimal_spend=None)
    assert frames.OPTIMAL not in set(without["kind"])


def test_the_chart_layers_band_lines_dots_and_rules() -> None:
    spec = charts.evidence_curve(frames.evidence(FIT, TOUCHPOINT, 200.0), "EUR", 0.9).to_dict()
    layers = spec["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["area", "line", "circle", "rule"]
    area = layers[0]["encoding"]
    assert area["y"] == {
        "field": "low",
        "type": "quantitative",
        "scale": {"domain": [0, 1]},
        "title": "Quality",
    }
    assert area["y2"]["field"] == "high"
    assert layers[2]["encoding"]["tooltip"][0]["field"] == "period"
    assert spec["layer"][0]["encoding"]["x"]["title"] == "Spend (EUR)"
    colors = layers[1]["encoding"]["color"]["scale"]["domain"]
    assert colors == [
        frames.OBSERVED,
        frames.FITTED,
        frames.CURRENT_CURVE,
        frames.CURRENT,
        frames.OPTIMAL,
    ]


def test_a_curves_source_in_words() -> None:
    assert frames.curve_source(FIT["curve"]) == (
        "a `saturating` curve fitted to observations (3 observations, 2026-12-01, with its "
        "uncertainty)"
    )
    assert frames.curve_source(TOUCHPOINT["curve"]) == (
        "a `points` curve with no source given (typed in)"
    )
    assert frames.curve_source({"hill": {}, "source": {"kind": "robyn", "date": "2026-11-02"}}) == (
        "a `hill` curve imported from Meta Robyn (2026-11-02)"
    )
