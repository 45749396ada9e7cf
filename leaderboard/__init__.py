"""videobench.leaderboard: result stores (local folder or Hub dataset repo), submissions, tables, reports and cards."""
