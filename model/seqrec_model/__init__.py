"""seqrec_model: train, evaluate and export the SASRec next-item model used by seqrec."""

__version__ = "0.1.0"

__all__ = ["__version__"]
