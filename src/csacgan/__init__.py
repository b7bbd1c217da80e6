"""csacgan: CostSensitive-ACGAN and baselines for generating rare-class images."""
__version__ = "0.1.0"
