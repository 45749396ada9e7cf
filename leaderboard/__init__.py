"""videobench.leaderboard: result stores (local folder or Hub dataset repo), submissions, tables, reports and cards.

Modules: ``layout`` (paths and names), ``store`` / ``hub_store`` (snapshot + plan-based atomic commits),
``ingest`` (untrusted result files), ``tables`` / ``significance`` (pandas tables, tiers), ``report`` (HTML),
``cards`` (dataset and model cards), ``build`` (rebuild and publish), ``submissions`` and ``queue`` (requests and the
runner), ``evaluators`` (the default evaluator), ``synthetic`` (fake results for demos and benchmarks).
"""
