"""Plots (scanpy style): ``pl`` draws what ``tl`` stored; it computes nothing a tool should."""

from genept.pl._umap import umap
from genept.programs import program_heatmap

__all__ = ["program_heatmap", "umap"]
