"""coopnet's benchmark suite: `python -m bench` (or `python -m bench --quick`).

Every figure is measured on loopback in one run, with the node under test
in its own processes and the load coming from another one, on three
setups (bench.common.SETUPS): `sqlite` (one `python -m node serve`
process), `postgresql-1` and `postgresql-2` (on PostgreSQL, a `serve
--no-workers` web process plus one or two `python -m node worker`
processes). Nothing is cached between figures and every check the node
normally does stays on. Figures are printed as `SETUP name: value unit`
(`name: value unit` for the two measured once per run) and written to
bench/results.json. See bench/__main__.py for the order.
"""
