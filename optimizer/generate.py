"""Synthetic portfolio documents of any size, for benchmarks, load tests and demos.

`generate_document(touchpoints, journeys, seed)` returns a valid portfolio document
(shared/portfolio-format.md) as plain data; `write_document(data, path)` writes it as YAML or
JSON. The shapes follow the demo portfolios in ``seeds/``:

- 6 to 12 departments (more for bigger portfolios), about a quarter of them without a cap;
- touchpoints in the channels typical of their department; spends log-normal (a few large
  ones, many small ones); concave `points` curves (staffing steps) and `saturating` curves
  (media), half and half;
- with `s_shaped` > 0, that share of the touchpoints (drawn by a second generator, so the
  rest of the document stays as without it) gets an S-shaped `hill` curve instead
  (shape 1.5-3.5, today's spend past its inflexion);
- each journey links 3 to 15 touchpoints drawn with a Zipf-like skew, so a few touchpoints
  (the website, the hotline) serve a large share of the journeys, the tail serves few or
  none, and about 5 % are legacy touchpoints that serve no journey at all;
- dependencies only from a higher to a lower touchpoint index, hence never a cycle;
- the budget covers today's spend, most caps are a little below it (a savings target);
  floors sit below what today's spend, cut to the caps, already buys, so every generated
  scenario has a solution;
- today's spend follows use only loosely, so the optimum is typically 25-40 % above the
  current allocation: more misallocated than the curated demo portfolios.

Deterministic: everything is drawn from one ``random.Random(seed)`` in a fixed order and
dicts are built in a fixed key order, so the same arguments give a byte-identical file.
"""

import bisect
import itertools
import json
import math
import random
from pathlib import Path
from typing import Any

import yaml

# Department slug, name, channels its touchpoints use, share of touchpoints (relative).
_DEPARTMENTS: tuple[tuple[str, str, tuple[str, ...], float], ...] = (
    ("marketing", "Marketing", ("search", "social", "print", "video", "event", "display"), 3.0),
    ("sales", "Sales", ("phone", "field", "retail", "partner"), 2.0),
    ("service", "Customer Service", ("phone", "chat", "email", "mail"), 2.5),
    ("digital", "Digital", ("web", "app", "portal"), 2.5),
    ("logistics", "Logistics", ("delivery", "parcel", "mail"), 1.5),
    ("operations", "Operations", ("back-office", "mail", "on-site"), 1.5),
    ("finance", "Finance", ("invoice", "mail", "web"), 1.0),
    ("it", "IT", ("web", "app", "data"), 1.0),
    ("product", "Product Management", ("web", "data", "documentation"), 1.0),
    ("partners", "Partner Management", ("partner", "retail", "event"), 1.0),
    ("field-service", "Field Service", ("on-site", "phone"), 1.0),
    ("compliance", "Compliance", ("mail", "back-office"), 0.5),
)

_CHANNEL_LABELS = {
    "search": "Search ads",
    "social": "Social campaign",
    "print": "Print mailing",
    "video": "Video",
    "event": "Event",
    "display": "Display ads",
    "phone": "Phone line",
    "field": "Field visit",
    "retail": "Store",
    "partner": "Partner programme",
    "chat": "Live chat",
    "email": "Email",
    "mail": "Letter",
    "web": "Website",
    "app": "App",
    "portal": "Customer portal",
    "delivery": "Delivery",
    "parcel": "Parcel service",
    "back-office": "Back-office process",
    "on-site": "On-site visit",
    "invoice": "Invoice",
    "data": "Data feed",
    "documentation": "Documentation",
}

_TOPICS = (
    "onboarding",
    "billing",
    "returns",
    "booking",
    "renewal",
    "support",
    "promotion",
    "installation",
    "loyalty",
    "claims",
    "upgrade",
    "ordering",
    "scheduling",
    "cancellation",
    "payment",
    "welcome",
)

_SEGMENTS = (
    ("Young family", "Two children, price sensitive, books and buys online in the evening"),
    ("Student", "Mobile first, small budget, switches provider easily"),
    ("Senior", "Prefers phone and letters, loyal once convinced"),
    ("Small business", "Owner-managed, little time, wants one contact person"),
    ("Enterprise buyer", "Formal tenders, several decision makers"),
    ("Affluent professional", "High value, expects personal service"),
    ("Commuter", "Uses the app on the go, expects real-time information"),
    ("Hobbyist", "Enthusiast, active in online communities"),
)

_FIRST_NAMES = (
    "anna", "ben", "clara", "david", "eva", "felix", "greta", "hannah", "ivan", "jana",
    "karl", "lea", "max", "nora", "oskar", "paula", "quentin", "rosa", "sven", "tina",
)  # fmt: skip
_LAST_NAMES = (
    "bauer", "becker", "fischer", "hoffmann", "klein", "koch", "lange", "meyer", "neumann",
    "richter", "schmidt", "schulz", "wagner", "weber", "wolf", "zimmermann",
)  # fmt: skip

_JOURNEY_PHRASES = (
    "opens an account",
    "buys for the first time",
    "renews the contract",
    "reports a problem",
    "asks for a refund",
    "upgrades the plan",
    "books an appointment",
    "moves house",
    "pays an invoice late",
    "returns a product",
    "gets a delivery",
    "complains about a bill",
    "recommends us to a friend",
    "cancels",
    "orders again",
    "compares offers",
)

_STAGE_SETS = (
    ("Need", "Buy", "Use"),
    ("Awareness", "Onboarding", "Engagement", "Advocacy"),
    ("Problem", "Contact", "Resolution"),
)

_KPIS = (
    ("Conversion rate", "%", True, 2.0, 8.0),
    ("NPS", "points", True, 10.0, 60.0),
    ("Time to resolution", "h", False, 4.0, 72.0),
    ("Repeat purchase rate", "%", True, 15.0, 60.0),
    ("Completion rate", "%", True, 40.0, 90.0),
)

_PAIN_POINTS = (
    "Long waiting times at peak hours",
    "Customers must enter the same data twice",
    "Information is out of date",
    "No confirmation after the request",
    "Hand-over to the next team loses the context",
    "Only available on weekdays",
)

# Popularity of the touchpoint of rank r is proportional to 1 / (r + 1) ** _SKEW.
_SKEW = 0.85
# Current spend = _MEDIAN_SPEND x (relative popularity) ** _SPEND_FOLLOWS_USE x log-normal
# noise; legacy touchpoints that serve no journey are sized like the least used ones.
_MEDIAN_SPEND = 40_000
_SPEND_FOLLOWS_USE = 0.7
_SPEND_NOISE = 0.5
_LEGACY_SIZE = 0.4
# Touchpoints used this much more than average are core ones with a min spend.
_CORE_SIZE = 2.0
# Department caps relative to the department's current spend (drawn per department).
_CAP_PER_SPEND = (0.88, 1.02)
# Total journey value per unit of budget: the demo portfolios have 7 to 8, so money pays
# back more than 1:1 at the budget and saturates at one and a half to twice the budget.
_VALUE_PER_BUDGET = (12.0, 16.0)
# Quality in integer units of 1e-4: exact arithmetic keeps generated curves concave.
_Q = 10_000


def _round_money(amount: float, step: int = 1000) -> int:
    return max(step, int(round(amount / step)) * step)


def _ceil_money(amount: float, step: int = 1000) -> int:
    return int(math.ceil(amount / step)) * step


def _points_curve(rng: random.Random, max_spend: int) -> list[list[float]]:
    """Concave piecewise-linear curve from spend 0 to max_spend, in exact units."""
    steps = max_spend // 1000
    cuts = sorted({max(1, round(rng.random() * steps)) for _ in range(rng.randint(2, 5))})
    cuts = [c for c in cuts if c < steps] + [steps]
    lengths = [b - a for a, b in itertools.pairwise([0, *cuts])]
    q0 = rng.randint(0, 3500)
    total = rng.randint(3000, min(9500, _Q - q0))
    raw = sorted((rng.uniform(0.15, 1.0) for _ in lengths), reverse=True)
    weighted = [r * n for r, n in zip(raw, lengths, strict=True)]
    scale = total / sum(weighted)
    gains = [int(w * scale) for w in weighted]
    # Integer floor keeps each slope g/n at or below the previous one, exactly.
    for k in range(1, len(gains)):
        gains[k] = min(gains[k], gains[k - 1] * lengths[k] // lengths[k - 1])
    points: list[list[float]] = [[0, q0 / _Q]]
    quality = q0
    for cut, gain in zip(cuts, gains, strict=True):
        quality += gain
        points.append([cut * 1000, quality / _Q])
    return points


def _saturating_curve(rng: random.Random, current: int) -> dict[str, float]:
    base = round(rng.uniform(0.0, 0.35), 3)
    top = round(rng.uniform(base + 0.3, min(0.98, base + 0.7)), 3)
    half = _round_money(current * rng.uniform(0.3, 1.5))
    return {"base": base, "max": top, "half_spend": half}


def _s_shaped_curve(rng: random.Random, current: int) -> dict[str, float]:
    base = round(rng.uniform(0.0, 0.25), 3)
    top = round(rng.uniform(base + 0.4, min(0.98, base + 0.75)), 3)
    half = _round_money(current * rng.uniform(0.5, 1.2))
    return {
        "base": base,
        "max": top,
        "half_spend": max(half, 1000),
        "shape": round(rng.uniform(1.5, 3.5), 2),
    }


def curve_quality(curve: dict[str, Any], spend: float) -> float:
    """Quality of a document curve (``points``, ``saturating`` or ``hill``) at spend."""
    if "points" in curve:
        points = curve["points"]
        for (s0, q0), (s1, q1) in itertools.pairwise(points):
            if spend <= s1:
                return float(q0 + (q1 - q0) * (spend - s0) / (s1 - s0))
        return float(points[-1][1])
    if "hill" in curve:
        h = curve["hill"]
        r = (max(spend, 0.0) / h["half_spend"]) ** h["shape"]
        return float(h["base"] + (h["max"] - h["base"]) * r / (1 + r))
    sat = curve["saturating"]
    return float(sat["base"] + (sat["max"] - sat["base"]) * spend / (spend + sat["half_spend"]))


def _department_count(touchpoints: int) -> int:
    # 6 departments for a few dozen touchpoints, one more for every doubling, at most 12.
    return max(6, min(len(_DEPARTMENTS), 6 + int(math.log2(max(1.0, touchpoints / 50)))))


def _floor_below(quality: float) -> float:
    """A floor safely below a quality the current allocation reaches.

    15 % of margin: the optimizer approximates saturating curves by chords, which lie below
    the curve, so a floor right at the current quality could look unreachable to it.
    """
    return math.floor(quality * 0.85 * 100) / 100


def generate_document(
    touchpoints: int, journeys: int, seed: int, *, s_shaped: float = 0.0
) -> dict[str, Any]:
    """A synthetic, valid portfolio document as plain data (dicts, lists, numbers, text).

    Parameters
    ----------
    touchpoints
        Number of touchpoints, at least 1 (and at least 3 when there are journeys).
    journeys
        Number of journeys, at least 0; each links 3 to 15 touchpoints.
    seed
        Seed of the random generator: the same arguments give the same document.
    s_shaped
        Share of the touchpoints (0..1) whose curve is an S-shaped hill curve; 0 gives
        the same document as before the option existed.

    Returns
    -------
    dict
        A document that `optimizer.document.validate_document` accepts (within its default
        size limits for up to 20,000 touchpoints and 10,000 journeys).

    Raises
    ------
    ValueError
        For counts that cannot make a valid document.
    """
    if touchpoints < 1 or journeys < 0:
        raise ValueError("need at least 1 touchpoint and 0 or more journeys")
    if journeys and touchpoints < 3:
        raise ValueError("journeys link at least 3 touchpoints: need 3 or more touchpoints")
    if not 0.0 <= s_shaped <= 1.0:
        raise ValueError("s_shaped is a share of the touchpoints, from 0 to 1")
    rng = random.Random(seed)
    s_rng = random.Random(f"{seed}-s-shaped")
    tp_width = max(3, len(str(touchpoints)))
    j_width = max(3, len(str(journeys)))

    # --- departments: which exist, their touchpoints' share
    dept_specs = _DEPARTMENTS[: _department_count(touchpoints)]
    dept_cum = list(itertools.accumulate(spec[3] for spec in dept_specs))

    # --- popularity: Zipf-like over a shuffled order; legacy touchpoints get none
    order = list(range(touchpoints))
    rng.shuffle(order)
    n_orphans = touchpoints // 20 if touchpoints >= 40 else 0
    pool = order[n_orphans:]
    popularity = [1.0 / (r + 1) ** _SKEW for r in range(len(pool))]
    pool_cum = list(itertools.accumulate(popularity))
    # Spend follows popularity loosely (the website costs more than a niche mailing), with
    # enough noise that today's allocation is visibly off; legacy touchpoints still cost.
    size_factor = [_LEGACY_SIZE] * touchpoints
    for t, weight in zip(pool, popularity, strict=True):
        size_factor[t] = (weight * len(pool) / pool_cum[-1]) ** _SPEND_FOLLOWS_USE

    # --- touchpoints
    tp_items: list[dict[str, Any]] = []
    dept_of: list[int] = []
    current: list[int] = []
    for i in range(touchpoints):
        # Every department gets one touchpoint before the draw decides the rest.
        d = i if i < len(dept_specs) else bisect.bisect(dept_cum, rng.random() * dept_cum[-1])
        slug, _, channels, _ = dept_specs[d]
        channel = rng.choice(channels)
        spend = _round_money(
            size_factor[i] * rng.lognormvariate(math.log(_MEDIAN_SPEND), _SPEND_NOISE), 100
        )
        max_spend = _ceil_money(spend * rng.uniform(1.8, 3.5))
        item: dict[str, Any] = {
            "id": f"tp-{i + 1:0{tp_width}d}",
            "name": f"{_CHANNEL_LABELS[channel]}: {rng.choice(_TOPICS)} {i + 1}",
            "department": slug,
            "channel": channel,
            "current_spend": spend,
        }
        # Core touchpoints (the most used) carry fixed costs: staff, platforms, contracts.
        # Min spends stay below 0.88 x current, the deepest cut the caps make (see below).
        if size_factor[i] > _CORE_SIZE or rng.random() < 0.2:
            item["min_spend"] = _round_money(spend * rng.uniform(0.3, 0.7), 100)
        item["max_spend"] = max_spend
        if rng.random() < 0.5:
            item["curve"] = {"points": _points_curve(rng, max_spend)}
        else:
            item["curve"] = {"saturating": _saturating_curve(rng, spend)}
        if s_shaped and s_rng.random() < s_shaped:
            item["curve"] = {"hill": _s_shaped_curve(s_rng, spend)}
        if rng.random() < 0.05:
            item["pain_points"] = [
                {"text": rng.choice(_PAIN_POINTS), "severity": rng.randint(1, 5)}
            ]
        tp_items.append(item)
        dept_of.append(d)
        current.append(spend)

    # --- dependencies: from a higher to a lower index, so the graph has no cycle
    requires: dict[int, list[int]] = {}
    dependencies: list[dict[str, str]] = []
    for _ in range(max(1, touchpoints // 50) if touchpoints >= 2 else 0):
        t = rng.randrange(1, touchpoints)
        u = rng.randrange(0, t)
        if u in requires.get(t, ()):
            continue
        requires.setdefault(t, []).append(u)
        dependencies.append({"touchpoint": tp_items[t]["id"], "requires": tp_items[u]["id"]})

    # --- budget and departments: the budget covers today's spend; most caps are a little
    # below the department's spend (a savings target), so uncapped departments get more than
    # today in the silo split and the caps bind.
    total_current = sum(current)
    budget = _ceil_money(total_current * rng.uniform(1.0, 1.08))
    dept_current = [0] * len(dept_specs)
    for d, spend in zip(dept_of, current, strict=True):
        dept_current[d] += spend
    uncapped = set(rng.sample(range(len(dept_specs)), max(1, len(dept_specs) // 4)))
    departments: list[dict[str, Any]] = []
    scale = [1.0] * len(dept_specs)
    for d, (slug, name, _, _) in enumerate(dept_specs):
        dept: dict[str, Any] = {"id": slug, "name": name}
        if d not in uncapped:
            cap = _ceil_money(dept_current[d] * rng.uniform(*_CAP_PER_SPEND))
            dept["budget"] = cap
            if dept_current[d] > cap:
                scale[d] = cap / dept_current[d]
        departments.append(dept)

    # A reference allocation that every generated scenario allows: today's spend, cut in
    # proportion where a cap is below it (min spends are far enough below current spend).
    # Floors are set below the experience it buys, so no scenario is infeasible.
    # Effective qualities in index order: what a touchpoint requires has a lower index.
    quality: list[float] = []
    for i, item in enumerate(tp_items):
        q = curve_quality(item["curve"], current[i] * scale[dept_of[i]])
        for u in requires.get(i, ()):
            q = min(q, quality[u])
        quality.append(q)

    # --- personas
    n_personas = max(2, min(200, journeys // 10 + 2))
    p_width = max(2, len(str(n_personas)))
    personas: list[dict[str, Any]] = []
    for k in range(n_personas):
        segment, description = _SEGMENTS[k % len(_SEGMENTS)]
        first = rng.choice(_FIRST_NAMES).capitalize()
        personas.append(
            {
                "id": f"persona-{k + 1:0{p_width}d}",
                "name": f"{first} ({segment})",
                "description": description,
                "customers": rng.randint(500, 200_000),
                "value_per_customer": rng.randint(20, 2000),
            }
        )

    # --- journeys
    shares = [rng.lognormvariate(0.0, 0.8) for _ in range(journeys)]
    total_value = budget * rng.uniform(*_VALUE_PER_BUDGET)
    share_sum = sum(shares) or 1.0
    journey_items: list[dict[str, Any]] = []
    experiences: list[float] = []
    for k in range(journeys):
        persona = rng.randrange(n_personas)
        stages = rng.choice(_STAGE_SETS)
        size = min(len(pool), round(rng.triangular(3, 15, 5)))
        chosen: dict[int, None] = {}
        while len(chosen) < size:
            for idx in rng.choices(pool, cum_weights=pool_cum, k=size - len(chosen)):
                chosen[idx] = None
        links: list[dict[str, Any]] = []
        critical = 0
        experience_sum = weight_sum = 0.0
        weakest = 1.0
        for pos, t in enumerate(chosen):
            link: dict[str, Any] = {
                "touchpoint": tp_items[t]["id"],
                "stage": stages[pos * len(stages) // size],
                "weight": rng.randint(1, 5),
            }
            if critical < 3 and rng.random() < 0.12:
                link["critical"] = True
                critical += 1
                weakest = min(weakest, quality[t])
            if rng.random() < 0.5:
                link["emotion"] = rng.randint(-2, 2)
            experience_sum += link["weight"] * quality[t]
            weight_sum += link["weight"]
            links.append(link)
        experience = min(experience_sum / weight_sum, weakest)
        experiences.append(experience)
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        journey: dict[str, Any] = {
            "id": f"journey-{k + 1:0{j_width}d}",
            "name": f"{_SEGMENTS[persona % len(_SEGMENTS)][0]} {rng.choice(_JOURNEY_PHRASES)}",
            "persona": personas[persona]["id"],
            "owner": f"{first}.{last}@synthetic.example",
        }
        draw = rng.random()
        if draw < 0.08:
            journey["lifecycle"] = "idea"
        elif draw < 0.14:
            journey["lifecycle"] = "sunset"
        journey["value"] = _round_money(total_value * shares[k] / share_sum)
        if rng.random() < 0.15:
            journey["priority"] = rng.choice((0.5, 0.8, 1.2, 1.5, 2.0))
        if rng.random() < 0.1 and _floor_below(experience) > 0:
            journey["floor"] = _floor_below(experience)
        journey["stages"] = list(stages)
        journey["touchpoints"] = links
        if rng.random() < 0.3:
            name, unit, higher, low, high = rng.choice(_KPIS)
            target = round(rng.uniform(low, high), 1)
            journey["kpis"] = [
                {
                    "name": name,
                    "unit": unit,
                    "target": target,
                    "higher_is_better": higher,
                    "actuals": [
                        {"period": period, "value": round(target * rng.uniform(0.6, 1.1), 1)}
                        for period in ("2026-Q3", "2026-Q4")
                    ],
                }
            ]
        journey_items.append(journey)

    # --- scenarios, all feasible: the reference allocation (or today's spend, where the
    # scenario is pooled) satisfies every one of them
    scenarios: list[dict[str, Any]] = [
        {"id": "pooled", "name": "Pooled budget", "pooled": True},
        {
            "id": "pooled-plus-10",
            "name": "Pooled budget, +10 %",
            "budget": _ceil_money(budget * 1.1),
            "pooled": True,
        },
    ]
    # Stopping a touchpoint must not push a floored journey below its floor: pick one that
    # no floored journey links and nothing requires, preferring legacy and rarely used ones.
    untouchable = {
        link["touchpoint"]
        for journey in journey_items
        if "floor" in journey
        for link in journey["touchpoints"]
    }
    untouchable.update(tp_items[u]["id"] for us in requires.values() for u in us)
    if touchpoints >= 2:
        top = pool[0]
        spare = next(
            (
                t
                for t in itertools.chain(order[:n_orphans], reversed(pool))
                if t != top and tp_items[t]["id"] not in untouchable
            ),
            None,
        )
        # Pooled: a lock at today's spend may not fit under a cap cut below it.
        locked: dict[str, Any] = {
            "id": "lock-and-exclude",
            "name": "Most shared touchpoint locked, one rarely used touchpoint stopped",
            "pooled": True,
            "locks": {tp_items[top]["id"]: current[top]},
        }
        if spare is not None:
            locked["exclude"] = [tp_items[spare]["id"]]
        scenarios.append(locked)
    largest = sorted(range(journeys), key=lambda k: (-journey_items[k]["value"], k))[:3]
    targets = {
        journey_items[k]["id"]: _floor_below(experiences[k])
        for k in largest
        if _floor_below(experiences[k]) > 0
    }
    if targets:
        scenarios.append(
            {
                "id": "min-spend-top-journeys",
                "name": "What does it take to hold the three largest journeys?",
                "mode": "min_spend",
                "pooled": True,
                "floors": targets,
            }
        )

    return {
        "format": "journeyfolio/v1",
        "id": f"synthetic-{touchpoints}x{journeys}-seed-{seed}"[:64].rstrip("-"),
        "name": f"Synthetic portfolio ({touchpoints} touchpoints, {journeys} journeys, "
        f"seed {seed})",
        "currency": "EUR",
        "period": "2027",
        "budget": budget,
        "departments": departments,
        "personas": personas,
        "touchpoints": tp_items,
        "dependencies": dependencies,
        "journeys": journey_items,
        "scenarios": scenarios,
    }


def write_document(data: dict[str, Any], path: str | Path) -> Path:
    """Write a document as YAML (``.yaml``, ``.yml``) or JSON (``.json``), by suffix.

    JSON is compact and several times faster to load: use it for large portfolios.

    Raises
    ------
    ValueError
        For any other suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
    elif suffix in (".yaml", ".yml"):
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)
    else:
        raise ValueError(f"{path}: unknown suffix '{path.suffix}' (use .yaml, .yml or .json)")
    path.write_text(text, encoding="utf-8")
    return path
