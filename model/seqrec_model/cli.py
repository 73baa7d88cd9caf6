"""Command line: ``python -m seqrec_model {train,evaluate,coldstart,explain,gap,export,...}``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import fields
from typing import Any, Dict, Optional, Sequence

from seqrec_model import __version__
from seqrec_model.config import EVAL_TARGETS, LOSSES, LR_SCHEDULES, NEGATIVE_SAMPLERS
from seqrec_model.config import ModelConfig, TrainConfig
from seqrec_model.config import parse_duration
from seqrec_model.data import EVENT_TYPES, FORMATS, REPEAT_RULES, DataFormatError, InteractionData
from seqrec_model.data import leave_one_out
from seqrec_model.data import item_counts, load, with_vocabulary
from seqrec_model.beyond import beyond_accuracy, format_beyond, top_lists
from seqrec_model.coldstart import coldstart_report, format_markdown
from seqrec_model.evaluate import evaluate_model, evaluate_popularity, format_table, round_metrics
from seqrec_model.evaluate import model_scorer, popularity_scorer
from seqrec_model.explain import explain_users, format_summary
from seqrec_model.export import export_artifact, export_random, item_vectors, write_topk_graph
from seqrec_model.gap import format_report, gap_report
from seqrec_model.patterns import MAX_CANDIDATES, MAX_STATES
from seqrec_model.presets import PRESET_NAMES, PRESETS, resolve
from seqrec_model.train import configure_threads, load_checkpoint, model_from_checkpoint, train

_M = ModelConfig()
_T = TrainConfig()


def _model_config(args: argparse.Namespace) -> ModelConfig:
    """The model shape from the ``model`` argument group (:func:`_add_model_args`)."""
    return ModelConfig(
        max_len=args.max_len,
        hidden=args.hidden,
        blocks=args.blocks,
        heads=args.heads,
        dropout=args.dropout,
        behaviors=bool(getattr(args, "behaviors", False)),
        target_behavior=bool(getattr(args, "target_behavior", False)),
    )


def _add_topk_graph_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--topk-graph",
        metavar="FILE",
        help="also write the served graph with the top-10 (seen items masked) inside to FILE,"
        " for the JMH comparison with scores + Java top-K (the job does not load it)",
    )


def _add_graph_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--graph",
        choices=("last_position", "full"),
        default="last_position",
        help="last_position (served); full = every position through every block, the same"
        " scores at the naive baseline's cost (seqrec bench --naive-model)",
    )


def _add_data_args(p: argparse.ArgumentParser, required: bool) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--format", choices=FORMATS, required=required, help="input format")
    g.add_argument("--data", required=required, help="input file")
    g.add_argument("--name", help="dataset name (default: derived from the path)")
    g.add_argument(
        "--skip-malformed",
        action="store_true",
        help="count and skip malformed lines instead of failing on the first one",
    )
    g.add_argument("--min-rating", type=float, help="movielens-csv: keep ratings >= this")
    g.add_argument(
        "--event-types",
        help=f"events, retailrocket (buy = purchase): comma-separated subset of "
        f"{','.join(EVENT_TYPES)} (default: all)",
    )
    g.add_argument(
        "--repeats",
        choices=REPEAT_RULES,
        default="first",
        help="events, retailrocket: consecutive events of a user on one item are one step with the"
        " first event's behavior (first, default), one step with the strongest behavior"
        " (strongest: view < click < cart < purchase), or a step each (all)",
    )


def _add_model_args(p: argparse.ArgumentParser, preset: bool = False) -> None:
    """Model shape options; with ``preset`` their defaults are None (= the preset's value, else
    the ModelConfig default, shown in the help)."""
    g = p.add_argument_group("model")

    def d(value: Any) -> Any:
        return None if preset else value

    g.add_argument("--max-len", type=int, default=d(_M.max_len), help=f"default {_M.max_len}")
    g.add_argument("--hidden", type=int, default=d(_M.hidden), help=f"default {_M.hidden}")
    g.add_argument("--blocks", type=int, default=d(_M.blocks), help=f"default {_M.blocks}")
    g.add_argument("--heads", type=int, default=d(_M.heads), help=f"default {_M.heads}")
    g.add_argument("--dropout", type=float, default=d(_M.dropout), help=f"default {_M.dropout}")
    g.add_argument(
        "--behaviors",
        action="store_const",
        const=True,
        default=d(_M.behaviors),
        help="type-aware: add a behavior-type embedding to each step (typed data; the artifact"
        " gets a second input, behaviors)",
    )
    g.add_argument(
        "--target-behavior",
        action="store_const",
        const=True,
        default=d(_M.target_behavior),
        help="condition on the behavior asked for (any next event, or e.g. the next purchase;"
        " see --eval-target)",
    )


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


def _add_train_args(p: argparse.ArgumentParser) -> None:
    """Training options; their defaults are None: the preset's value if it sets one, else the
    TrainConfig default (shown in the help)."""
    g = p.add_argument_group("training")
    g.add_argument(
        "--preset",
        choices=PRESET_NAMES,
        default="auto",
        help="option defaults: dense = plain SASRec-CE (the defaults below); sparse = the large-"
        "catalog/short-history recipe (model/README.md); auto (default) = sparse for >= 10,000 "
        "items and <= 30 interactions per user on average, else dense; explicit options win",
    )

    def add(flag: str, help_text: str = "", **kw: Any) -> None:
        name = flag[2:].replace("-", "_")
        default = getattr(_T, name)
        shown = f"default {default}" + (f"; {help_text}" if help_text else "")
        g.add_argument(flag, default=None, help=shown, **kw)

    add("--epochs", "a safety cap when --time-budget is given", type=int)
    add("--batch-size", type=int)
    add("--lr", "peak learning rate", type=float)
    add("--weight-decay", type=float)
    add("--seed", type=int)
    add("--loss", "ce = full softmax; sampled = sampled softmax; gbce = gSASRec", choices=LOSSES)
    add("--num-negatives", "sampled and gbce losses", type=int)
    add("--negative-sampling", choices=NEGATIVE_SAMPLERS)
    add("--gbce-t", "gBCE calibration (0 = plain BCE, 1 = fully calibrated)", type=float)
    add("--patience", "evaluations without a validation gain of more than --min-delta", type=int)
    add("--min-delta", "validation NDCG@10 gain that resets --patience", type=float)
    add(
        "--time-budget",
        "training time, e.g. 45m, 1h30m, 2700 (seconds): stop before an epoch that would end"
        " after it",
        type=_duration,
        metavar="DURATION",
    )
    add("--lr-schedule", "after warm-up", choices=LR_SCHEDULES)
    add("--warmup-epochs", "linear warm-up from lr/100 (fractions allowed)", type=float)
    add("--min-lr-ratio", "cosine floor / plateau's lowest lr, as a fraction of --lr", type=float)
    add("--plateau-factor", "plateau: lr multiplier", type=float)
    add("--plateau-patience", "plateau: evaluations without gain before lowering lr", type=int)
    add("--eval-every", "epochs between evaluations", type=int)
    add("--eval-batch-size", type=int)
    add("--threads", "0 = all available cores", type=int)
    add("--max-batches-per-epoch", "for smoke tests", type=int)
    add(
        "--dp-epsilon",
        "user-level DP-SGD: the noise is calibrated before training so that the run spends at"
        " most this epsilon (RDP accountant, Poisson sampling of users at rate --batch-size /"
        " users, --epochs fixed; the last weights are kept)",
        type=float,
    )
    add("--dp-delta", "with --dp-epsilon; keep it below 1 / users", type=float)
    add("--dp-clip", "with --dp-epsilon: L2 bound on each user's gradient", type=float)
    add("--dp-chunk", "with --dp-epsilon: users per per-sample-gradient call (memory)", type=int)
    add(
        "--eval-target",
        "what a --target-behavior model is asked for in validation and test",
        choices=EVAL_TARGETS,
    )


def _load_data(args: argparse.Namespace) -> InteractionData:
    event_types = args.event_types.split(",") if args.event_types else None
    return load(
        args.format,
        args.data,
        name=args.name,
        skip_malformed=args.skip_malformed,
        min_rating=args.min_rating,
        event_types=event_types,
        repeats=getattr(args, "repeats", "first"),
    )


def _data_source(args: argparse.Namespace) -> Dict[str, Any]:
    return {
        "path": os.path.abspath(args.data),
        "load_options": {
            "format": args.format,
            "name": args.name,
            "skip_malformed": args.skip_malformed,
            "min_rating": args.min_rating,
            "event_types": args.event_types,
            "repeats": getattr(args, "repeats", "first"),
        },
    }


def _data_from_checkpoint(args: argparse.Namespace, ckpt: Dict[str, Any]) -> InteractionData:
    """Data given on the command line, else the data the checkpoint was trained on."""
    if args.data is None:
        source = ckpt.get("data", {})
        if "path" not in source:
            raise SystemExit("checkpoint does not record its data: pass --format and --data")
        opts = source["load_options"]
        for key, value in opts.items():
            setattr(args, key, value)
        args.data = source["path"]
    elif args.format is None:
        raise SystemExit("--data needs --format")
    data = _load_data(args)
    if getattr(args, "held_out", False):
        return with_vocabulary(data, ckpt["item_ids"])
    if list(data.item_ids) != list(ckpt["item_ids"]):
        raise SystemExit(
            f"{args.data}: item vocabulary differs from the checkpoint's "
            f"({data.num_items} vs {len(ckpt['item_ids'])} items); wrong data file?"
        )
    return data


def resolve_configs(
    args: argparse.Namespace, data: InteractionData
) -> tuple[str, str, ModelConfig, TrainConfig]:
    """The preset (``--preset``, auto-chosen from ``data``) and the configs: options given on the
    command line, else the preset's, else the dataclass defaults."""
    names = [f.name for f in fields(ModelConfig)] + [f.name for f in fields(TrainConfig)]
    given = {n: getattr(args, n) for n in names}
    preset, why, options = resolve(args.preset, data, given)
    model_cfg = ModelConfig(
        **{f.name: options[f.name] for f in fields(ModelConfig) if f.name in options}
    )
    train_cfg = TrainConfig(
        **{f.name: options[f.name] for f in fields(TrainConfig) if f.name in options}
    )
    return preset, why, model_cfg, train_cfg


def cmd_train(args: argparse.Namespace) -> int:
    previous = None
    if args.init_from:
        from seqrec_model import warmstart

        previous = warmstart.prepare(args.init_from, args)  # fixes the model shape in args
    if args.dp_epsilon is None:
        stray = [f for f in ("dp_delta", "dp_clip", "dp_chunk") if getattr(args, f) is not None]
        if stray:
            flags = ", ".join("--" + f.replace("_", "-") for f in stray)
            raise ValueError(f"{flags} only apply with --dp-epsilon")
    data = _load_data(args)
    preset, why, model_cfg, train_cfg = resolve_configs(args, data)
    used = {k: v for k, v in PRESETS[preset].items() if getattr(args, k, None) is None}
    overridden = sorted(set(PRESETS[preset]) - set(used))
    print(
        f"preset {preset} ({why}); sets {used or 'nothing (the defaults)'}"
        + (f"; given on the command line instead: {', '.join(overridden)}" if overridden else "")
    )
    out_dir = args.out or os.path.join("runs", data.name)
    result = train(
        data,
        model_cfg,
        train_cfg,
        out_dir=out_dir,
        data_source=_data_source(args),
        extra_metrics={"preset": preset, "preset_reason": why},
        initialize=warmstart.initializer(previous, data.item_ids) if previous else None,
    )
    print(f"checkpoint: {os.path.join(out_dir, 'checkpoint.pt')}")
    if args.export_dir:
        meta = export_artifact(
            result.model,
            data.item_ids,
            args.export_dir,
            model_name=args.model_name or f"sasrec-{data.name}",
            training_data=data.summary(),
            metrics=result.metrics,
            train_config=train_cfg,
            reference_histories=result.split.test.inputs,
            reference_behaviors_of=result.split.test.input_behaviors,
            repeats=data.repeats if data.behaviors is not None else "first",
            target_behavior=train_cfg.eval_target if model_cfg.target_behavior else "any",
        )
        print(f"exported {meta['model_version']} to {args.export_dir}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    ckpt = load_checkpoint(args.checkpoint)
    train_cfg = TrainConfig.from_dict(ckpt["train_config"])
    configure_threads(args.threads or train_cfg.resolved_threads())
    model = model_from_checkpoint(ckpt)
    data = _data_from_checkpoint(args, ckpt)
    split = leave_one_out(data.sequences)
    counts = item_counts(split.train, data.num_items)
    results: Dict[str, Any] = {}
    rows: Dict[str, Any] = {}
    for part in args.split:
        evalset = split.test if part == "test" else split.validation
        m = evaluate_model(model, evalset, args.batch_size, args.sampled_negatives, args.seed)
        p = evaluate_popularity(counts, evalset, args.batch_size, args.sampled_negatives, args.seed)
        results[part] = {"model": m, "popularity": p}
        rows[f"{part} SASRec"] = m
        rows[f"{part} most-popular"] = p
        if not args.no_beyond:
            model.eval()
            lists = {
                "model": top_lists(model_scorer(model), evalset, data.num_items, 10,
                                   args.batch_size),
                "popularity": top_lists(popularity_scorer(counts), evalset, data.num_items, 10,
                                        args.batch_size),
            }  # fmt: skip
            vectors = item_vectors(model)
            results[part]["beyond_accuracy"] = {
                name: beyond_accuracy(lst, split.train, data.num_items, vectors)
                for name, lst in lists.items()
            }
    print(
        f"checkpoint {args.checkpoint} (best epoch {ckpt.get('best_epoch')}); data {data.name}: "
        f"{data.num_users} users, {data.num_items} items"
    )
    print(format_table(rows))
    beyond_rows = {
        f"{part} {'SASRec' if name == 'model' else 'most-popular'} top-10": m
        for part in args.split
        for name, m in results[part].get("beyond_accuracy", {}).items()
    }
    if beyond_rows:
        print("beyond accuracy (top-10, seen excluded; popularity = training interactions):")
        print(format_beyond(beyond_rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(round_metrics(results), f, indent=2)
            f.write("\n")
    return 0


def _model_and_data(args: argparse.Namespace):
    ckpt = load_checkpoint(args.checkpoint)
    configure_threads(
        args.threads or TrainConfig.from_dict(ckpt["train_config"]).resolved_threads()
    )
    model = model_from_checkpoint(ckpt).eval()
    data = _data_from_checkpoint(args, ckpt)
    return ckpt, model, data


def _write_json(path: Optional[str], value: Any) -> None:
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2)
            f.write("\n")


def cmd_coldstart(args: argparse.Namespace) -> int:
    _, model, data = _model_and_data(args)
    split = leave_one_out(data.sequences)
    print(
        f"data {data.name}: {data.num_users} users, {data.num_items} items; "
        f"timestamps: {'yes' if data.times is not None else 'no'}",
        flush=True,
    )
    report = coldstart_report(
        split,
        data.num_items,
        model_scorer(model),
        data.times,
        data.sequences,
        args.batch_size,
        log=lambda msg: print(msg, flush=True),
    )
    if report["half_life_validation_ndcg10"]:
        scores = ", ".join(
            f"{k} {v:.4f}" for k, v in report["half_life_validation_ndcg10"].items()  # type: ignore
        )
        print(f"trending half-life, validation NDCG@10 (all buckets): {scores}")
    title = args.title or data.name
    tables = "\n\n".join(format_markdown(report, title, part) for part in ("test", "validation"))
    print(tables)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(format_markdown(report, title, "test") + "\n")
    _write_json(args.json, round_metrics(report))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    _, model, data = _model_and_data(args)
    split = leave_one_out(data.sequences)
    out = explain_users(model, split.test, args.users, args.seed, args.batch_size)
    print(f"data {data.name}: {data.num_users} users, {data.num_items} items (test split)")
    print(format_summary(out["summary"]))  # type: ignore[arg-type]
    _write_json(args.json, {"summary": round_metrics(out["summary"])} | (  # type: ignore
        {"users": out["users"]} if args.per_user else {}))  # fmt: skip
    return 0


def cmd_gap(args: argparse.Namespace) -> int:
    if args.checkpoint:
        ckpt = load_checkpoint(args.checkpoint)
        configure_threads(
            args.threads or TrainConfig.from_dict(ckpt["train_config"]).resolved_threads()
        )
        model = model_from_checkpoint(ckpt)
        data = _data_from_checkpoint(args, ckpt)
    else:
        if args.data is None or args.format is None:
            raise SystemExit("gap needs --checkpoint, or --format and --data (baseline only)")
        configure_threads(args.threads or TrainConfig().resolved_threads())
        model, data = None, _load_data(args)
    split = leave_one_out(data.sequences)
    counts = item_counts(split.train, data.num_items)
    report = gap_report(split, counts, model, args.batch_size)
    print(f"data {data.name}: {data.num_users} users, {data.num_items} items")
    print(format_report(report))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    ckpt = load_checkpoint(args.checkpoint)
    train_cfg = TrainConfig.from_dict(ckpt["train_config"])
    configure_threads(train_cfg.resolved_threads())
    model = model_from_checkpoint(ckpt)
    data = _data_from_checkpoint(args, ckpt)
    split = leave_one_out(data.sequences, data.behaviors)
    metrics = ckpt.get("metrics") or {
        "best_epoch": ckpt.get("best_epoch"),
        "epochs_trained": ckpt.get("epochs_trained"),
    }
    meta = export_artifact(
        model,
        ckpt["item_ids"],
        args.out,
        model_name=args.model_name or f"sasrec-{data.name}",
        training_data=data.summary(),
        metrics=metrics,
        train_config=train_cfg,
        reference_histories=split.test.inputs,
        verify=not args.no_verify,
        graph=args.graph,
        reference_behaviors_of=split.test.input_behaviors,
        repeats=data.repeats if data.behaviors is not None else "first",
        target_behavior=args.serve_target
        or (train_cfg.eval_target if model.config.target_behavior else "any"),
    )
    print(f"exported {meta['model_version']} ({args.graph} graph) to {args.out}")
    if args.topk_graph:
        write_topk_graph(model, args.topk_graph)
        print(f"wrote the top-K graph to {args.topk_graph}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from seqrec_model import multibehavior

    configure_threads(args.threads or TrainConfig().resolved_threads())
    report = multibehavior.compare(
        args.data,
        multibehavior.parse_models(args.model),
        args.batch_size,
        args.sampled_negatives,
        args.seed,
    )
    print(multibehavior.format_compare(report))
    _write_json(args.json, report)
    return 0


def cmd_holdout(args: argparse.Namespace) -> int:
    from seqrec_model import multibehavior

    counts = multibehavior.write_holdout(args.data, args.out)
    print(
        f"{args.out}: {counts['held_out']} of {counts['users']} users with a held-out purchase; "
        f"{counts['train_events']} training events; dropped {counts['dropped_after']} events "
        f"after a held-out purchase and {counts['dropped_ratings']} ratings"
    )
    return 0


def cmd_export_random(args: argparse.Namespace) -> int:
    config = _model_config(args)
    configure_threads(args.threads or TrainConfig().resolved_threads())
    meta = export_random(
        config,
        args.num_items,
        args.out,
        seed=args.seed,
        model_name=args.model_name,
        verify=not args.no_verify,
        graph=args.graph,
        topk_graph=args.topk_graph,
        repeats=args.repeats,
        target_behavior=args.serve_target,
    )
    print(
        f"exported {meta['model_version']} (random weights, {args.num_items} items) to {args.out}"
    )
    if args.topk_graph:
        print(f"wrote the top-K graph to {args.topk_graph}")
    return 0


def cmd_timesplit_cut(args: argparse.Namespace) -> int:
    from seqrec_model.timesplit import cut

    split = cut(args.format, args.data, args.fractions, args.out)
    for name, t, n in zip(split["files"], split["thresholds"], split["events_before"]):
        print(f"{os.path.join(args.out, name)}: {n} of {split['events']} events before {t:.0f}")
    return 0


def cmd_timesplit_evaluate(args: argparse.Namespace) -> int:
    from seqrec_model import timesplit

    models = {}
    for spec in args.model:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"--model {spec!r}: expected NAME=PATH")
        models[name] = path
    configure_threads(args.threads or TrainConfig().resolved_threads())
    full = _load_data(args)
    before = _load_data(argparse.Namespace(**{**vars(args), "data": args.before}))
    report = timesplit.evaluate(full, before, models, args.batch_size, log=sys.stdout)
    print(timesplit.format_report(report))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    return 0


def cmd_patterns(args: argparse.Namespace) -> int:
    from seqrec_model import patterns
    from seqrec_model.patterns_report import ReportSettings, write_report

    data = load(
        args.format, args.data, name=args.name, skip_malformed=args.skip_malformed, repeats="all"
    )
    log = patterns.event_log(
        data.user_ids, data.sequences, data.behaviors, data.times, args.max_gap, args.max_time_gap
    )
    min_support = patterns.resolve_min_support(args.min_support, log.num_users)
    print(
        f"{data.name}: {log.num_users} users, {log.num_events} events mined"
        f" ({log.dropped_untimed} steps of unknown time left out); min support {min_support} users"
    )
    results = []
    for kind in patterns.KINDS:
        start = time.perf_counter()
        found = patterns.mine(
            log, kind, min_support, args.max_length, args.max_candidates, args.max_states
        )
        results.append(patterns.MiningResult(kind, found, time.perf_counter() - start))
        print(f"{kind}: {len(found)} patterns in {results[-1].seconds:.2f} s")
    settings = ReportSettings(
        min_support=min_support,
        min_support_given=args.min_support,
        max_length=args.max_length,
        max_gap=args.max_gap,
        max_time_gap=args.max_time_gap,
        top=args.top,
    )
    chart = write_report(args.out, data, log, results, patterns.funnel(log), settings)
    print(f"report: {args.out}; funnel chart: {chart}")
    return 0


def _add_patterns_parser(sub: Any) -> None:
    p = sub.add_parser(
        "patterns",
        help="conversion paths: frequent behavior sequences (concrete and with items as"
        " variables), support and confidence, a funnel; Markdown report + PNG chart",
    )
    p.add_argument("--format", choices=("events", "retailrocket"), required=True)
    p.add_argument("--data", required=True, help="input file (retailrocket: train.csv)")
    p.add_argument("--name", help="dataset name (default: derived from the path)")
    p.add_argument("--skip-malformed", action="store_true", help="skip malformed lines")
    p.add_argument(
        "--min-support",
        required=True,
        help="minimum number of users (integer >= 1) or fraction of users (0 < S < 1)",
    )
    p.add_argument(
        "--max-gap",
        type=int,
        help="at most G other events between consecutive matched events (0 = adjacent;"
        " default: no limit)",
    )
    p.add_argument(
        "--max-time-gap",
        type=_duration,
        metavar="DURATION",
        help="at most this long from one matched event to the next, e.g. 30m (default: no limit)",
    )
    p.add_argument("--max-length", type=int, default=4, help="events per pattern (default 4)")
    p.add_argument("--top", type=int, default=20, help="rows per table (default 20)")
    p.add_argument(
        "--max-candidates",
        type=int,
        default=MAX_CANDIDATES,
        help="refuse to enumerate more candidate events to extend one pattern (time; default"
        f" {MAX_CANDIDATES:,})",
    )
    p.add_argument(
        "--max-states",
        type=int,
        default=MAX_STATES,
        help="refuse to project more occurrence states for one pattern (memory, ~130 bytes"
        f" each; default {MAX_STATES:,})",
    )
    p.add_argument("--out", required=True, help="report.md; the chart is written beside it")
    p.set_defaults(func=cmd_patterns)


def _add_timesplit_parser(sub: Any) -> None:
    p = sub.add_parser(
        "timesplit",
        help="retraining over time: cut a timed file at event-time quantiles; score models on"
        " the events after a cut",
    )
    ts = p.add_subparsers(dest="timesplit_command", required=True)
    c = ts.add_parser("cut", help="write the events before each threshold (and split.json)")
    c.add_argument("--format", choices=("events", "movielens-csv", "retailrocket"), required=True)
    c.add_argument("--data", required=True, help="input file")
    c.add_argument(
        "--fractions",
        type=float,
        nargs="+",
        default=[0.7, 0.85],
        help="thresholds as quantiles of the event times (default 0.7 0.85 = T1 T2)",
    )
    c.add_argument("--out", required=True, help="directory for before-T<i>.* and split.json")
    c.set_defaults(func=cmd_timesplit_cut)
    e = ts.add_parser(
        "evaluate",
        help="score models on the steps of --data after those of --before (full ranking)",
    )
    _add_data_args(e, required=True)
    e.add_argument("--before", required=True, help="the data before the cut (from timesplit cut)")
    e.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="NAME=PATH",
        help="a model to score: checkpoint.pt, run directory or artifact directory (repeatable)",
    )
    e.add_argument("--batch-size", type=int, default=256)
    e.add_argument("--threads", type=int, default=0)
    e.add_argument("--json", help="also write the report as JSON here")
    e.set_defaults(func=cmd_timesplit_evaluate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m seqrec_model", description="Train, evaluate and export seqrec's SASRec."
    )
    parser.add_argument("--version", action="version", version=f"seqrec_model {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train (and optionally export) a model")
    _add_data_args(p, required=True)
    _add_model_args(p, preset=True)
    _add_train_args(p)
    g = p.add_argument_group("output")
    g.add_argument("--out", help="run directory for checkpoint/history/metrics (runs/<name>)")
    g.add_argument("--export-dir", help="also export the serving artifact here")
    g.add_argument("--model-name", help="model_version prefix (default sasrec-<dataset name>)")
    p.add_argument(
        "--init-from",
        metavar="PATH",
        help="warm start from a previous model: an artifact directory (weights.pt, else read"
        " from model.onnx), a run directory or its checkpoint.pt; known items keep their"
        " embeddings (matched by item id), new items start fresh, every other weight and the"
        " model shape come from it",
    )
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "compare",
        help="models trained on different views of RetailRocket-layout data (purchases only,"
        " type-blind, type-aware, repeat rules) on the same held-out purchases",
    )
    p.add_argument("--data", required=True, help="train.csv, with test_buy.csv beside it")
    p.add_argument(
        "--model", action="append", required=True, metavar="NAME=RUN", help="repeatable"
    )
    p.add_argument(
        "--sampled-negatives",
        type=int,
        default=99,
        help="negatives of the sampled variant (the papers' 99; 0 = none; not full ranking)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for sampled negatives")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", help="also write the report as JSON here")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser(
        "holdout",
        help="project events to RetailRocket's held-out-purchase layout (train.csv, test_buy.csv:"
        " each user's last purchase held out), for compare",
    )
    p.add_argument("--data", required=True, help="events JSON lines")
    p.add_argument("--out", required=True, help="directory for train.csv and test_buy.csv")
    p.set_defaults(func=cmd_holdout)

    p = sub.add_parser("evaluate", help="evaluate a checkpoint (full ranking, both variants)")
    p.add_argument("--checkpoint", required=True)
    _add_data_args(p, required=False)
    p.add_argument("--split", nargs="+", choices=("test", "validation"), default=["test"])
    p.add_argument(
        "--sampled-negatives",
        type=int,
        default=0,
        help="also report the sampled-N-negatives variant (e.g. 100; not full ranking)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for sampled negatives")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", help="also write the metrics as JSON here")
    p.add_argument(
        "--no-beyond",
        action="store_true",
        help="skip the beyond-accuracy metrics (coverage, Gini, novelty, avg popularity, ILD)",
    )
    p.add_argument(
        "--held-out",
        action="store_true",
        help="--data holds users the model never saw: map its items to the model's vocabulary "
        "(unknown items dropped) instead of requiring the same vocabulary",
    )
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "gap",
        help="validation/test gap: val vs test, test without the validation item, cold targets",
    )
    p.add_argument("--checkpoint", help="model to analyse (without: the data and baseline only)")
    _add_data_args(p, required=False)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", help="also write the report as JSON here")
    p.set_defaults(func=cmd_gap)

    p = sub.add_parser(
        "coldstart",
        help="cold start by evidence: model vs trending vs RRF blend by (truncated) history length",
    )
    p.add_argument("--checkpoint", required=True)
    _add_data_args(p, required=False)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--title", help="table title (default: the dataset name)")
    p.add_argument("--json", help="also write the report as JSON here")
    p.add_argument("--markdown", help="also write the test table as Markdown here")
    p.set_defaults(func=cmd_coldstart)

    p = sub.add_parser(
        "explain",
        help="faithfulness of the attention explanation (because) on the test users",
    )
    p.add_argument("--checkpoint", required=True)
    _add_data_args(p, required=False)
    p.add_argument("--users", type=int, help="at most N test users (seeded sample; default all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample and random positions")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", help="also write the summary as JSON here")
    p.add_argument("--per-user", action="store_true", help="--json: include every user's record")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("export", help="export a checkpoint to a serving artifact directory")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--out", required=True, help="artifact directory")
    p.add_argument("--model-name", help="model_version prefix (default sasrec-<dataset name>)")
    p.add_argument("--no-verify", action="store_true", help="skip the ONNX-vs-PyTorch check")
    p.add_argument(
        "--serve-target",
        choices=EVAL_TARGETS,
        help="a --target-behavior model: the behavior the served graph is asked for (default:"
        " the training's --eval-target)",
    )
    _add_graph_arg(p)
    _add_topk_graph_arg(p)
    _add_data_args(p, required=False)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "export-random",
        help="export an untrained model of a given shape (seeded random weights), for benchmarks",
    )
    _add_model_args(p)
    p.add_argument("--num-items", type=int, required=True, help="catalog size; ids are 1..N")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    p.add_argument("--out", required=True, help="artifact directory")
    p.add_argument("--model-name", default="random", help="model_version prefix")
    p.add_argument("--threads", type=int, default=0, help="0 = all available cores")
    p.add_argument("--no-verify", action="store_true", help="skip the ONNX-vs-PyTorch check")
    p.add_argument(
        "--repeats", choices=REPEAT_RULES, default="first", help="the steps' repeat rule to declare"
    )
    p.add_argument(
        "--serve-target",
        choices=EVAL_TARGETS,
        default="any",
        help="with --target-behavior: the behavior the served graph is asked for",
    )
    _add_graph_arg(p)
    _add_topk_graph_arg(p)
    p.set_defaults(func=cmd_export_random)

    _add_timesplit_parser(sub)
    _add_patterns_parser(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (DataFormatError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
