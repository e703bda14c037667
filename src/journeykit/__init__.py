"""journeykit: funnel analytics for e-commerce event logs.

The library API lives in submodules so that ``import journeykit`` (and ``journeykit --help``)
stays instant; Polars is only imported by the modules that compute.
"""

__version__ = "0.1.0"
