"""Command line: ``python -m seqrec_model {train,evaluate,export,export-random} ...``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import fields
from typing import Any, Dict, Optional, Sequence

from seqrec_model import __version__
from seqrec_model.config import LOSSES, NEGATIVE_SAMPLERS, ModelConfig, TrainConfig
from seqrec_model.data import EVENT_TYPES, FORMATS, DataFormatError, InteractionData, leave_one_out
from seqrec_model.data import item_counts, load, with_vocabulary
from seqrec_model.evaluate import evaluate_model, evaluate_popularity, format_table, round_metrics
from seqrec_model.export import export_artifact, export_random, write_topk_graph
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
        help=f"events: comma-separated subset of {','.join(EVENT_TYPES)} (default: all)",
    )


def _add_model_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--max-len", type=int, default=_M.max_len)
    g.add_argument("--hidden", type=int, default=_M.hidden)
    g.add_argument("--blocks", type=int, default=_M.blocks)
    g.add_argument("--heads", type=int, default=_M.heads)
    g.add_argument("--dropout", type=float, default=_M.dropout)


def _add_train_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=int, default=_T.epochs)
    g.add_argument("--batch-size", type=int, default=_T.batch_size)
    g.add_argument("--lr", type=float, default=_T.lr)
    g.add_argument("--weight-decay", type=float, default=_T.weight_decay)
    g.add_argument("--seed", type=int, default=_T.seed)
    g.add_argument("--loss", choices=LOSSES, default=_T.loss, help="ce = full softmax")
    g.add_argument("--num-negatives", type=int, default=_T.num_negatives, help="sampled loss")
    g.add_argument("--negative-sampling", choices=NEGATIVE_SAMPLERS, default=_T.negative_sampling)
    g.add_argument(
        "--patience", type=int, default=_T.patience, help="evaluations without validation gain"
    )
    g.add_argument("--eval-every", type=int, default=_T.eval_every, help="epochs between evals")
    g.add_argument("--eval-batch-size", type=int, default=_T.eval_batch_size)
    g.add_argument("--threads", type=int, default=_T.threads, help="0 = all available cores")
    g.add_argument("--max-batches-per-epoch", type=int, default=None, help="for smoke tests")


def _load_data(args: argparse.Namespace) -> InteractionData:
    event_types = args.event_types.split(",") if args.event_types else None
    return load(
        args.format,
        args.data,
        name=args.name,
        skip_malformed=args.skip_malformed,
        min_rating=args.min_rating,
        event_types=event_types,
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


def cmd_train(args: argparse.Namespace) -> int:
    model_cfg = _model_config(args)
    train_cfg = TrainConfig(
        **{f.name: getattr(args, f.name) for f in fields(TrainConfig)}  # type: ignore[arg-type]
    )
    data = _load_data(args)
    out_dir = args.out or os.path.join("runs", data.name)
    result = train(data, model_cfg, train_cfg, out_dir=out_dir, data_source=_data_source(args))
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
    print(
        f"checkpoint {args.checkpoint} (best epoch {ckpt.get('best_epoch')}); data {data.name}: "
        f"{data.num_users} users, {data.num_items} items"
    )
    print(format_table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(round_metrics(results), f, indent=2)
            f.write("\n")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    ckpt = load_checkpoint(args.checkpoint)
    train_cfg = TrainConfig.from_dict(ckpt["train_config"])
    configure_threads(train_cfg.resolved_threads())
    model = model_from_checkpoint(ckpt)
    data = _data_from_checkpoint(args, ckpt)
    split = leave_one_out(data.sequences)
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
    )
    print(f"exported {meta['model_version']} ({args.graph} graph) to {args.out}")
    if args.topk_graph:
        write_topk_graph(model, args.topk_graph)
        print(f"wrote the top-K graph to {args.topk_graph}")
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
    )
    print(f"exported {meta['model_version']} (random weights, {args.num_items} items) to {args.out}")
    if args.topk_graph:
        print(f"wrote the top-K graph to {args.topk_graph}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m seqrec_model", description="Train, evaluate and export seqrec's SASRec."
    )
    parser.add_argument("--version", action="version", version=f"seqrec_model {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train (and optionally export) a model")
    _add_data_args(p, required=True)
    _add_model_args(p)
    _add_train_args(p)
    g = p.add_argument_group("output")
    g.add_argument("--out", help="run directory for checkpoint/history/metrics (runs/<name>)")
    g.add_argument("--export-dir", help="also export the serving artifact here")
    g.add_argument("--model-name", help="model_version prefix (default sasrec-<dataset name>)")
    p.set_defaults(func=cmd_train)

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
        "--held-out",
        action="store_true",
        help="--data holds users the model never saw: map its items to the model's vocabulary "
        "(unknown items dropped) instead of requiring the same vocabulary",
    )
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("export", help="export a checkpoint to a serving artifact directory")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--out", required=True, help="artifact directory")
    p.add_argument("--model-name", help="model_version prefix (default sasrec-<dataset name>)")
    p.add_argument("--no-verify", action="store_true", help="skip the ONNX-vs-PyTorch check")
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
    _add_graph_arg(p)
    _add_topk_graph_arg(p)
    p.set_defaults(func=cmd_export_random)
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
