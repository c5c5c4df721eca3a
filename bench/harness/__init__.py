"""monolite benchmark harness (run it with bench/run.sh)."""
