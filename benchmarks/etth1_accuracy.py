"""ETTh1 accuracy: our LSTM and GRU forecasters next to the published numbers.

Scores the naive baselines, then trains the LSTM and the GRU (the same builder, budget and
seed as `forecast run`) under the standard ETTh1 protocol, and prints test MSE and MAE on the
z-scored data beside the reference rows. See forecasting/benchmark/etth1.py for the protocol.

ETTh1.csv comes from the ETDataset repository (Zhou et al.); pass its path.

Usage: .venv/bin/python benchmarks/etth1_accuracy.py --data PATH [--horizon 24] [--lookback 96]
       [--multivariate] [--units 64] [--skip last] [--max-epochs 20] [--output results.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
from dataclasses import asdict

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="path to ETTh1.csv")
    parser.add_argument("--horizon", type=int, default=24)
    parser.add_argument("--lookback", type=int, default=96)
    parser.add_argument("--multivariate", action="store_true", help="all 7 columns as independent series")
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--skip", default="last", choices=("seasonal", "last", "none"),
                        help="naive forecast the network corrects (default last: ETTh1's best baseline)")
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", help="also write the scores as JSON here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    from forecasting.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    from forecasting.benchmark.etth1 import etth1_windows, markdown, score_baselines, score_rnn
    from forecasting.models.builder import ModelSpec
    from forecasting.models.training import TrainBudget

    setting = "multivariate" if args.multivariate else "univariate"
    windowed = etth1_windows(args.data, args.horizon, args.lookback, args.multivariate)
    budget = TrainBudget(args.max_epochs, args.patience, args.batch_size, args.learning_rate, args.seed)
    scores = score_baselines(windowed)
    for cell in ("lstm", "gru"):
        scores.append(score_rnn(windowed, ModelSpec(cell=cell, units=args.units, skip=args.skip), budget))

    print(f"\nETTh1, {setting}, horizon {args.horizon}, lookback {args.lookback}, {args.units} units, "
          f"skip={args.skip}, at most {args.max_epochs} epochs (patience {args.patience}), seed {args.seed}; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores\n")
    print(markdown(scores, setting, args.horizon))
    if args.output:
        with open(args.output, "w") as f:
            json.dump({"setting": setting, "args": vars(args), "scores": [asdict(s) for s in scores]}, f, indent=2)


if __name__ == "__main__":
    main()
