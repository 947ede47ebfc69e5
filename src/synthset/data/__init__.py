"""Getting labelled images in: read a source, check and split it, bring it to one size."""
from synthset.data.ingest import cap_per_class, ingest, stratified_split
from synthset.data.preprocess import convert_color, preprocess, resize_center_crop, resize_summary
from synthset.data.sources import load_digits, load_folder, load_idx, load_mnist5k

__all__ = [
    "cap_per_class", "convert_color", "ingest", "load_digits", "load_folder", "load_idx",
    "load_mnist5k", "preprocess", "resize_center_crop", "resize_summary", "stratified_split",
]
