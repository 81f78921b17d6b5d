"""Plots (scanpy style): ``pl`` draws what ``tl`` stored; it computes nothing a tool should."""

from genept.pl._programs import program_heatmap
from genept.pl._umap import umap

__all__ = ["program_heatmap", "umap"]
