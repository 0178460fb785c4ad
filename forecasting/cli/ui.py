"""`forecast ui`: the MLflow UI on the project's store, with links to the training runs."""

from __future__ import annotations

from forecasting.cli.options import add_tracking_uri_option
from forecasting.exit_status import ExitStatus


def register(subparsers) -> None:
    p = subparsers.add_parser("ui", help="start the MLflow UI on the project's store")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    add_tracking_uri_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import mlflow

    from forecasting.tracking.runs import sigterm_as_interrupt
    from forecasting.tracking.server import start_server, stop_server, wait_until_up
    from forecasting.tracking.store import resolve_uri, ui_links, use_store

    uri = use_store(args.tracking_uri)
    url = f"http://{args.host}:{args.port}"
    proc = None
    try:
        with sigterm_as_interrupt():  # SIGTERM, like Ctrl-C, ends the server's whole group
            proc = start_server(uri, args.host, args.port)
            wait_until_up(url, proc)
            print(f"MLflow UI at {url} (store {resolve_uri(uri)}); Ctrl-C stops it.", flush=True)
            print("The LSTM/GRU comparisons, in the UI's model-training view:")
            for exp in mlflow.search_experiments():
                if (
                    exp.name != "Default"
                    or mlflow.search_runs([exp.experiment_id], max_results=1).shape[0]
                ):
                    print(f"  {exp.name}: {ui_links(url, exp.experiment_id)[0]}", flush=True)
            proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if proc is not None:
            stop_server(proc)
    return ExitStatus.OK
