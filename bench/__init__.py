"""coopnet's benchmark suite: `python -m bench` (or `python -m bench --quick`).

Every figure is measured on loopback in one run, with the node under test
in its own process (`python -m node serve`) and the load coming from
another one. Nothing is cached between figures and every check the node
normally does stays on. Figures are printed as `name: value unit` and
written to bench/results.json. See bench/__main__.py for the order.
"""
