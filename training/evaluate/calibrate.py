"""`python -m training.evaluate.calibrate --model model/bundled --devset DIR`: fit the self-check.

1. Reads every snip of a PDF-snip dev set (``python -m training.data.devset``) once with the
   model's default decoding and caches, per snip, the self-check signals of the top
   reading and the round-trip signals of every n-best candidate, with whether each is
   exactly right by the project's scorer (``DIR/selfcheck-features-*.jsonl``; a rerun
   resumes, so fitting again is instant).
2. Fits the logistic calibration on one half of the snips (a stable hash split) and
   measures it on the other: AUROC of the confidence for "exactly right", the share
   of wrong readings ``needs_check`` catches and of right ones it flags, calibration
   error; and whether re-ranking the n-best list by the round trip raises exact match.
3. With ``--write``, refits on all snips and stores the calibration as ``self_check``
   in the model folder's snaptex.json; ``--report FILE`` saves the figures as JSON
   (``python -m training.evaluate.reliability_plot`` draws them).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from pathlib import Path

from model.selfcheck import SIGNALS_VERSION

logger = logging.getLogger(__name__)

# One cache per model's weights and way of computing the signals.
FEATURES_FILE = "selfcheck-features-{model}-s{signals}.jsonl"
# Signals the calibration reads; "rt_" ones come from the render round trip.
MODEL_FEATURES = ("logp_mean", "logp_min", "n_tokens_log", "beam_gap", "beam_agree",
                  "beam2_distance", "ctc_distance", "ctc_per_token")
ROUND_TRIP_FEATURES = ("rt_failed", "rt_aspect", "rt_columns", "rt_rows", "rt_missing",
                       "rt_extra", "rt_components")
VARIANTS = {"model signals": MODEL_FEATURES,
            "model signals + round trip": MODEL_FEATURES + ROUND_TRIP_FEATURES}
TARGET_CATCH = 0.85  # needs_check threshold: flag this share of the wrong fitting readings
RERANK_DEPTH = 3  # candidates the round trip may promote


def is_right(prediction: str, reference: str) -> bool:
    from training.evaluate.metrics import prediction_tokens, reference_tokens

    return prediction_tokens(prediction) == reference_tokens(reference)


def model_fingerprint(model: str) -> str:
    """12 hex digits naming a model folder's weights (size, first and last MiB of each
    safetensors file): a retrained model never reads another's cached features."""
    digest = hashlib.sha256()
    files = sorted(Path(model).glob("*.safetensors")) if Path(model).is_dir() else []
    if not files:
        digest.update(str(model).encode())
    for path in files:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(1 << 20)
            handle.seek(max(0, size - (1 << 20)))
            digest.update(f"{path.name}:{size}".encode() + head + handle.read())
    return digest.hexdigest()[:12]


def extract(model: str, devset: Path, threads: int, limit: int | None) -> list[dict]:
    """Run the model once per snip; append each snip's record to the model's cache."""
    from model.images import open_image_file
    from model.loading import load_recognizer
    from model.options import InferenceOptions
    from model.selfcheck.roundtrip import ink_of, round_trip
    from training.data.devset import read_devset

    snips = read_devset(devset)[:limit]
    cache = devset / FEATURES_FILE.format(model=model_fingerprint(model),
                                         signals=SIGNALS_VERSION)
    done = {json.loads(line)["file"] for line in cache.open()} if cache.exists() else set()
    todo = [s for s in snips if s["file"] not in done]
    if todo:
        recognizer = load_recognizer(model, "cpu", "auto", threads)
        recognizer.self_check = None  # raw signals: the calibration is what we fit
        options = InferenceOptions()
        with cache.open("a", encoding="utf-8") as handle:
            for count, snip in enumerate(todo, start=1):
                image = open_image_file(str(devset / snip["file"]))
                started = time.perf_counter()
                (reading,), _ = recognizer.readings([image], options)
                model_s = time.perf_counter() - started
                check, check_ms = recognizer.check(reading, with_round_trip=True)
                ink = ink_of(image)
                candidates = []
                for candidate in reading.candidates:
                    began = time.perf_counter()
                    comparison = round_trip(ink, candidate.latex)
                    candidates.append({
                        "latex": candidate.latex, "score": candidate.score,
                        "right": is_right(candidate.latex, snip["text"]),
                        "rt": comparison.features,
                        "rt_ms": round((time.perf_counter() - began) * 1e3, 2)})
                record = {**snip, "features": check.features,
                          "region": check.check_region, "candidates": candidates,
                          "right": candidates[0]["right"],
                          "model_ms": round(model_s * 1e3, 1), "check_ms": check_ms}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                handle.flush()
                if count % 20 == 0:
                    logger.info("%d/%d snips read", count, len(todo))
    lines = cache.read_text(encoding="utf-8").splitlines()
    wanted = {s["file"] for s in snips}
    return [r for r in map(json.loads, lines) if r["file"] in wanted]


def fold_of(record: dict) -> int:
    """Stable two-way split by formula (0: fit, 1: held out)."""
    return hashlib.sha1(record["text"].encode()).digest()[0] % 2


def fit_and_measure(fit_rows: list[dict], test_rows: list[dict],
                    features: tuple[str, ...], l2: float) -> tuple[object, dict]:
    from model.selfcheck import calibrate

    fitted = calibrate.fit([r["features"] for r in fit_rows], [r["right"] for r in fit_rows],
                           features, l2)
    fit_confidence = [fitted.probability(r["features"]) for r in fit_rows]
    threshold = calibrate.threshold_for_catch(
        fit_confidence, [r["right"] for r in fit_rows], TARGET_CATCH)
    fitted = calibrate.Calibration(fitted.features, fitted.mean, fitted.scale,
                                   fitted.coef, fitted.intercept, threshold)
    return fitted, measure(fitted, test_rows)


def measure(fitted, rows: list[dict]) -> dict:
    from model.selfcheck import calibrate

    confidence = [fitted.probability(r["features"]) for r in rows]
    right = [r["right"] for r in rows]
    catch, false_flag = calibrate.flag_rates(confidence, right, fitted.threshold)
    return {"count": len(rows), "exact_match": sum(right) / max(len(right), 1),
            "auroc": calibrate.auroc(confidence, right), "catch_rate": catch,
            "false_flag_rate": false_flag,
            "ece": calibrate.expected_calibration_error(confidence, right),
            "reliability": calibrate.reliability(confidence, right),
            "confidence": confidence, "right": right}


def mismatch(candidate: dict) -> float:
    """How much a candidate's render differs from the snip (round-trip ink layout)."""
    rt = candidate["rt"]
    return rt["rt_missing"] + rt["rt_extra"] + rt["rt_failed"] + rt["rt_aspect"]


def rerank_choice(record: dict, margin: float | None) -> dict:
    """The top reading, unless another of the first RERANK_DEPTH candidates matches the
    snip better by more than ``margin`` (None: never re-rank)."""
    top = record["candidates"][0]
    if margin is None:
        return top
    rivals = record["candidates"][1:RERANK_DEPTH]
    best = min(rivals, key=mismatch, default=top)
    return best if mismatch(top) - mismatch(best) > margin else top


def cross_validated(records: list[dict], features: tuple[str, ...], l2: float,
                    folds: int = 5) -> dict:
    """Every snip scored by a calibration (and threshold) fitted without it: the
    pooled out-of-fold figures, steadier than one half on a few hundred snips."""
    from model.selfcheck import calibrate

    confidence, right, flagged = [], [], []
    for fold in range(folds):
        def part(r):
            return int(hashlib.sha1(r["text"].encode()).hexdigest(), 16) % folds

        train = [r for r in records if part(r) != fold]
        test = [r for r in records if part(r) == fold]
        if not test:
            continue
        fitted, _ = fit_and_measure(train, test, features, l2)
        for r in test:
            p = fitted.probability(r["features"])
            confidence.append(p)
            right.append(r["right"])
            flagged.append(p < fitted.threshold)
    wrong = [f for f, r in zip(flagged, right, strict=True) if not r]
    good = [f for f, r in zip(flagged, right, strict=True) if r]
    return {"count": len(right), "auroc": calibrate.auroc(confidence, right),
            "catch_rate": sum(wrong) / max(len(wrong), 1),
            "false_flag_rate": sum(good) / max(len(good), 1),
            "ece": calibrate.expected_calibration_error(confidence, right)}


def rerank_effect(fit_rows: list[dict], test_rows: list[dict]) -> dict:
    """Pick the re-ranking margin on the fitting half, measure on the held-out half."""
    margins = (None, 0.4, 0.3, 0.2, 0.15, 0.1, 0.05, 0.0)

    def exact(rows, margin):
        return sum(rerank_choice(r, margin)["right"] for r in rows) / max(len(rows), 1)

    # Ties keep the top reading: re-ranking must earn its place.
    best = max(margins, key=lambda m: (exact(fit_rows, m), m is None))
    return {"margin": best,
            "fit_exact_by_margin": {str(m): exact(fit_rows, m) for m in margins},
            "held_out_exact_by_margin": {str(m): exact(test_rows, m) for m in margins},
            "held_out_exact_top": exact(test_rows, None),
            "held_out_exact_reranked": exact(test_rows, best),
            "oracle_held_out": sum(any(c["right"] for c in r["candidates"])
                                   for r in test_rows) / max(len(test_rows), 1)}


def costs(records: list[dict]) -> dict:
    import statistics

    def p50(values):
        return round(statistics.median(values), 1) if values else None

    return {"model_ms_p50": p50([r["model_ms"] for r in records]),
            "model_signals_ms_p50": p50([r["check_ms"].get("model_signals", 0)
                                         for r in records]),
            "round_trip_ms_p50": p50([r["check_ms"].get("round_trip", 0) for r in records]),
            "round_trip_per_candidate_ms_p50": p50([c["rt_ms"] for r in records
                                                    for c in r["candidates"]])}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate.calibrate",
                                     description="Fit and measure the self-check.")
    parser.add_argument("--model", default="model/bundled")
    parser.add_argument("--devset", type=Path, nargs="+", required=True,
                        help="dev-set folder(s) (python -m training.data.devset); several "
                             "are pooled")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--l2", type=float, default=10.0)
    parser.add_argument("--write", action="store_true",
                        help="refit on all snips and store it in the model's snaptex.json")
    parser.add_argument("--report", type=Path, help="write the figures as JSON here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    missing = [d for d in args.devset if not (d / "devset.jsonl").exists()]
    if missing:
        print(f"no dev set at {missing[0]}: run python -m training.data.devset first",
              file=sys.stderr)
        return 2
    from model.selfcheck import HINT_KEY, calibrate

    records = [r for d in args.devset for r in extract(args.model, d, args.threads, args.limit)]
    fit_rows = [r for r in records if fold_of(r) == 0]
    test_rows = [r for r in records if fold_of(r) == 1]
    report = {"snips": len(records), "fit": len(fit_rows), "held_out": len(test_rows),
              "costs": costs(records), "variants": {}}
    for name, features in VARIANTS.items():
        fitted, figures = fit_and_measure(fit_rows, test_rows, features, args.l2)
        report["variants"][name] = {"threshold": fitted.threshold, **figures,
                                    "cross_validated": cross_validated(
                                        records, features, args.l2)}
    report["rerank"] = rerank_effect(fit_rows, test_rows)
    # The round trip joins the calibration only if it ranks readings better out of
    # fold; otherwise it runs for flagged readings only, to find the region.
    report["shipped"] = max(report["variants"], key=lambda name: (
        report["variants"][name]["cross_validated"]["auroc"], name == "model signals"))
    baseline = [r["candidates"][0]["score"] for r in test_rows]
    report["baseline_auroc_mean_logp"] = calibrate.auroc(
        baseline, [r["right"] for r in test_rows])
    summary = {k: v for k, v in report.items() if k != "variants"}
    summary["variants"] = {
        name: {k: (round(v, 3) if isinstance(v, float) else v) for k, v in figures.items()
               if k not in ("confidence", "right", "reliability")}
        for name, figures in report["variants"].items()}
    print(json.dumps(summary, indent=1))
    if args.report:
        args.report.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if args.write:
        from model import manifest

        chosen = report["shipped"]
        features = VARIANTS[chosen]
        fitted, _ = fit_and_measure(records, records, features, args.l2)
        held_out = report["variants"][chosen]
        fitted = calibrate.Calibration(
            fitted.features, fitted.mean, fitted.scale, fitted.coef, fitted.intercept,
            fitted.threshold,
            notes={"devset": "python -m training.data.devset (PDF snips, held-out formulas)",
                   "snips": len(records), "devsets": len(args.devset),
                   "target_catch": TARGET_CATCH,
                   "variant": chosen, "l2": args.l2,
                   "held_out_auroc": round(held_out["auroc"], 4),
                   "held_out_catch_rate": round(held_out["catch_rate"], 4),
                   "held_out_false_flag_rate": round(held_out["false_flag_rate"], 4)})
        manifest.update_hints(args.model, **{HINT_KEY: fitted.to_dict()})
        print(f"wrote {HINT_KEY} to {Path(args.model) / manifest.HINTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
