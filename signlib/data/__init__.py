"""Data: sequence records, BIO conventions, readers/writers of real formats, corpus and batching."""

from signlib.data.sequence import Segment, Sequence, mask_missing

__all__ = ["Segment", "Sequence", "mask_missing"]
